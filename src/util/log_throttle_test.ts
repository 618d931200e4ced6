import { assertEquals } from "../../tests/assert.ts";
import { Logger } from "./logger.ts";
import { LogThrottle } from "./log_throttle.ts";

Deno.test("LogThrottle writes a few lines per key and window, then one summary", async (t) => {
  const lines: string[] = [];
  const logger = new Logger({ level: "info", sink: (l) => lines.push(l) });
  let now = 0;
  const throttle = new LogThrottle(logger, { perWindow: 3, windowMs: 60_000 }, {
    now: () => now,
  });

  await t.step("a flood of one kind writes 3 lines", () => {
    for (let i = 0; i < 1_000; i++) throttle.warn("bad signature", `drop ${i}`);
    assertEquals(lines.map((l) => l.split(" WARN ")[1]), [
      "drop 0",
      "drop 1",
      "drop 2",
    ]);
  });

  await t.step("another kind has its own share", () => {
    throttle.warn("malformed", "odd bytes");
    assertEquals(lines.length, 4);
  });

  await t.step("the next window starts with the summary of the last", () => {
    now = 61_000;
    throttle.warn("bad signature", "drop again");
    assertEquals(lines.slice(4).map((l) => l.split(" WARN ")[1]), [
      "bad signature: 997 more in the last 61 s (not logged one by one)",
      "drop again",
    ]);
  });

  await t.step(
    "flush() writes pending summaries; a quiet kind writes none",
    () => {
      for (let i = 0; i < 5; i++) throttle.warn("bad signature", "x");
      throttle.flush();
      assertEquals(
        lines.at(-1)!.split(" WARN ")[1],
        "bad signature: 3 more in the last 0 s (not logged one by one)",
      );
      const count = lines.length;
      throttle.flush();
      assertEquals(lines.length, count);
    },
  );
});

Deno.test("LogThrottle sums up on its own when the window ends", async () => {
  const lines: string[] = [];
  const logger = new Logger({ level: "info", sink: (l) => lines.push(l) });
  const throttle = new LogThrottle(logger, { perWindow: 1, windowMs: 50 });
  throttle.warn("k", "first");
  throttle.warn("k", "second");
  throttle.warn("k", "third");
  await new Promise((r) => setTimeout(r, 120));
  assertEquals(lines.length, 2);
  assertEquals(lines[1]!.includes("k: 2 more in the last 0 s"), true);
});
