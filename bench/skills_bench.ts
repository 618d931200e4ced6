/**
 * Skill sandbox cost: a warm sandboxed call of the echo skill against calling its
 * handler in-process, and the cold start of a skill Worker (load to first result).
 *
 *     deno bench -A bench/skills_bench.ts
 */
import { SkillSandbox, type SkillSpec } from "../src/skills/mod.ts";
import { handle } from "../skills/echo.ts";

const ECHO: SkillSpec = {
  name: "echo",
  handlerPath: new URL("../skills/echo.ts", import.meta.url).pathname,
  handlerExport: "handle",
  net: [],
  read: [],
};
const RUN = { callerNodeId: "c".repeat(64), jobId: "bench" };
const INPUT = { text: "hello, sandbox" };

// Shared by the warm benches; `deno bench` exits with its Workers still idle.
const warm = new SkillSandbox();
await warm.load(ECHO);

Deno.bench({
  name: "echo in-process (handler called directly)",
  group: "warm call",
  baseline: true,
  fn: async () => {
    await handle(INPUT);
  },
});

Deno.bench({
  name: "echo in the sandbox (warm Worker)",
  group: "warm call",
  fn: async () => {
    const outcome = await warm.run("echo", INPUT, RUN);
    if (outcome.status !== "ok") throw new Error(JSON.stringify(outcome));
  },
});

Deno.bench({
  name: "echo in the sandbox, 4 calls at once (4 warm Workers)",
  group: "warm call",
  fn: async () => {
    await Promise.all([1, 2, 3, 4].map(() => warm.run("echo", INPUT, RUN)));
  },
});

Deno.bench({
  name: "cold start: new skill Worker to first result",
  group: "cold start",
  n: 10,
  warmup: 1,
  fn: async () => {
    await using sandbox = new SkillSandbox();
    await sandbox.load(ECHO);
    const outcome = await sandbox.run("echo", INPUT, RUN);
    if (outcome.status !== "ok") throw new Error(JSON.stringify(outcome));
  },
});
