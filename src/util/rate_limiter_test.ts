import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { RateLimiter } from "./rate_limiter.ts";

Deno.test("RateLimiter allows a burst per key, then the rate", async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSecond: 10, burst: 3 }, {
    now: () => now,
  });
  const takes = (key: string, n: number) =>
    Array.from({ length: n }, () => limiter.take(key));

  await t.step("a new key has its burst", () => {
    assertEquals(takes("a", 4), [true, true, true, false]);
  });
  await t.step("keys do not share", () => {
    assertEquals(takes("b", 3), [true, true, true]);
  });
  await t.step("tokens come back at the rate, up to the burst", () => {
    now = 100;
    assertEquals(takes("a", 2), [true, false]);
    now = 10_000;
    assertEquals(takes("a", 4), [true, true, true, false]);
  });
});

Deno.test("RateLimiter forgets the least recently used key past maxKeys", () => {
  const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 2 }, {
    now: () => 0,
  });
  assertEquals(limiter.take("a"), true);
  assertEquals(limiter.take("b"), true);
  assertEquals(limiter.take("a"), false); // a is now the most recent
  assertEquals(limiter.take("c"), true); // b is forgotten
  assertEquals(limiter.take("a"), false);
  assertEquals(limiter.take("b"), true); // starts full again
});

Deno.test("RateLimiter refuses limits that are not positive", () => {
  assertThrows(
    () => new RateLimiter({ ratePerSecond: 0, burst: 1 }),
    RangeError,
    "must be positive",
  );
});
