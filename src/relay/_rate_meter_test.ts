import { assertStrictEquals, assertThrows } from "../../tests/assert.ts";
import { RateMeter } from "./_rate_meter.ts";

Deno.test("RateMeter meters each bucket on its own with one rate and burst", () => {
  const clock = { now: () => 1_000 };
  const meter = new RateMeter({ clock }, { ratePerSecond: 10, burst: 2 });
  const a = { emptyAt: -Infinity };
  const b = { emptyAt: -Infinity };
  assertStrictEquals(meter.take(a), 0);
  assertStrictEquals(meter.take(a), 0);
  assertStrictEquals(meter.take(a), 100, "a has used its burst");
  assertStrictEquals(meter.take(b), 0, "b has not");
  assertStrictEquals(a.emptyAt, 1_100);
});

Deno.test("RateMeter refuses a rate or burst that is not positive", () => {
  const clock = { now: () => 0 };
  assertThrows(
    () => new RateMeter({ clock }, { ratePerSecond: -1, burst: 1 }),
    RangeError,
  );
  assertThrows(
    () => new RateMeter({ clock }, { ratePerSecond: 1, burst: 0.5 }),
    RangeError,
  );
});
