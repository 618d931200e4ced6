import { assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { TokenBucket } from "./token_bucket.ts";

function fakeClock(start = 1_000) {
  return {
    t: start,
    now() {
      return this.t;
    },
  };
}

Deno.test("TokenBucket.take() allows the burst, then meters at the rate", () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ clock }, { ratePerSecond: 10, burst: 3 });
  assertStrictEquals(bucket.take(), 0);
  assertStrictEquals(bucket.take(), 0);
  assertStrictEquals(bucket.take(), 0);
  assertStrictEquals(bucket.take(), 100);
  clock.t += 100;
  assertStrictEquals(bucket.take(), 100);
  clock.t += 250;
  assertStrictEquals(bucket.take(), 0);
});

Deno.test("TokenBucket.take() refills no further than the burst", () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ clock }, { ratePerSecond: 1_000, burst: 2 });
  bucket.take();
  bucket.take();
  clock.t += 60_000;
  assertStrictEquals(bucket.take(), 0);
  assertStrictEquals(bucket.take(), 0);
  assertStrictEquals(bucket.take(), 1);
});

Deno.test("TokenBucket refuses a rate or burst that is not positive", () => {
  const clock = fakeClock();
  assertThrows(
    () => new TokenBucket({ clock }, { ratePerSecond: 0, burst: 1 }),
    RangeError,
  );
  assertThrows(
    () => new TokenBucket({ clock }, { ratePerSecond: 1, burst: 0 }),
    RangeError,
  );
});
