import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { Logger } from "./logger.ts";

Deno.test("Logger writes human lines by default and drops fields there", () => {
  const lines: string[] = [];
  const log = new Logger({ sink: (l) => lines.push(l) });
  log.info("Joined", { peers: 3 });
  log.child("relay").warn("Slow");
  log.debug("hidden");
  assertEquals(lines.length, 2);
  assertMatch(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO Joined$/);
  assertMatch(lines[1]!, /Z WARN \[relay\] Slow$/);
});

Deno.test("Logger with format json writes one object a line with time, level, component, message and fields", () => {
  const lines: string[] = [];
  const log = new Logger({ sink: (l) => lines.push(l), format: "json" });
  log.info('Dropped "x"\nnext', { reason: "bad signature", n: 2n });
  log.child("tasks").error("Failed", { error: new Error("boom") });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  log.warn("Cyclic", { cyclic });
  assertEquals(lines.length, 3);
  const [a, b, c] = lines.map((l) => JSON.parse(l));
  assertMatch(a.time, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  assertEquals(
    { ...a, time: "" },
    {
      time: "",
      level: "info",
      component: "knarr",
      message: 'Dropped "x"\nnext',
      fields: { reason: "bad signature", n: "2" },
    },
  );
  assertEquals([b.component, b.level, b.fields], ["tasks", "error", {
    error: "boom",
  }]);
  assertEquals([c.message, c.fields], ["Cyclic", {}]);
  for (const line of lines) assertEquals(line.includes("\n"), false);
});
