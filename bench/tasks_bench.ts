/**
 * Task benchmarks over real TCP on 127.0.0.1: echo tasks per second and per-task latency
 * p50/p99 with 1 and 32 tasks in flight, one consumer, one provider; the echo skill both
 * as an in-process handler and as the sandboxed skills/echo.ts (Worker per skill, warm).
 *
 * Run: deno task bench (or deno bench -A bench/tasks_bench.ts)
 */
import {
  assetStoreFromConfig,
  ConfiguredSkills,
  KnarrNode,
} from "../src/node/mod.ts";
import { parseConfig } from "../src/config/mod.ts";
import { ECHO_SHEET } from "../tests/fixtures/sheets.ts";
import type { QueryResult } from "../src/discovery/mod.ts";

const provider = await KnarrNode.create({
  host: "127.0.0.1",
  policy: { initialCredit: 1e12, taskSlots: 64, maxQueueDepth: 1000 },
});
await provider.start({ maintenance: false });
await provider.announce({ ...ECHO_SHEET, tags: ["bench"] });
provider.registerHandler("echo", (input) => ({ text: String(input.text) }));

// The same skill from skills/echo.ts in the Worker sandbox, served as `knarr serve` does.
const root = new URL("..", import.meta.url).pathname;
const config = parseConfig(
  `[node]\nhost = "127.0.0.1"\nport = 0\nstorage = ":memory:"\ntask_slots = 64\nmax_queue_depth = 1000\n` +
    `[policy]\ninitial_credit = 1e9\n[skills.echo]\nhandler = "skills/echo.ts"\ndescription = "Echo"\n` +
    `tags = ["bench"]\ninput_schema = { text = "string" }\n`,
  `${root}knarr.toml`,
);
const skills = new ConfiguredSkills(config, assetStoreFromConfig(config));
const sandboxed = await KnarrNode.fromConfig(config, {
  runner: skills.runner(),
});
await sandboxed.start({ maintenance: false });
await skills.apply(sandboxed, config.skills);

const consumer = await KnarrNode.create({ host: "127.0.0.1" });
await consumer.start({ maintenance: false });
function targetOf(node: KnarrNode): QueryResult[] {
  return [{
    node_id: node.nodeId,
    host: "127.0.0.1",
    port: node.address.port,
    skill_sheet: { name: "echo" },
    sidecar_port: 0,
  }];
}
let target = targetOf(provider);

async function one(): Promise<number> {
  const start = performance.now();
  const r = await consumer.consumer.request("echo", { text: "hello" }, target);
  if (r.status !== "completed") {
    throw new Error(`task failed: ${JSON.stringify(r.error)}`);
  }
  return performance.now() - start;
}

function percentile(sorted: number[], p: number): number {
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ]!;
}

async function measure(inFlight: number, total: number): Promise<string> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next++ < total) latencies.push(await one());
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return `${inFlight} in flight: ${(total / seconds).toFixed(0)} tasks/s, p50 ${
    percentile(latencies, 50).toFixed(2)
  } ms, ` +
    `p99 ${percentile(latencies, 99).toFixed(2)} ms (${total} tasks)`;
}

const figures: string[] = [];
for (
  const [label, node] of [["in-process", provider], [
    "sandboxed",
    sandboxed,
  ]] as const
) {
  target = targetOf(node);
  for (let i = 0; i < 100; i++) await one(); // warm up
  // A burst first, so the sandbox has started the Workers 32 concurrent calls need.
  await Promise.all(Array.from({ length: 32 }, one));
  figures.push(
    `${label} echo, ${await measure(1, 1000)}`,
    `${label} echo, ${await measure(32, 3000)}`,
  );
}
target = targetOf(provider);
// deno-lint-ignore no-console
console.log(figures.join("\n"));

Deno.bench({
  name: "echo task round trip over TCP (1 in flight)",
  group: "tasks",
}, async () => {
  await one();
});
Deno.bench({ name: "32 echo tasks in flight", group: "tasks" }, async () => {
  await Promise.all(Array.from({ length: 32 }, one));
});

globalThis.addEventListener("unload", () => {
  void consumer.close();
  void provider.close();
  void sandboxed.close().then(() => skills.close());
});
