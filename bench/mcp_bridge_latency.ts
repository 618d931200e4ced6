/**
 * MCP bridge latency: `echo` of server-everything called directly through McpBridge,
 * and as a bridged skill over the knarr wire (TCP, signed TASK_REQUEST/RESULT).
 * Prints p50/p99; never fails on time.
 *
 *   deno run -A bench/mcp_bridge_latency.ts [--calls 500]
 */
import { parseArgs } from "node:util";
import type { QueryResult } from "../src/discovery/mod.ts";
import { McpBridge } from "../src/mcp/mod.ts";
import { BridgedSkills, KnarrNode } from "../src/node/mod.ts";
import type { SkillRunner } from "../src/node/mod.ts";
import { mcpServerCommand } from "../tests/mcp_helpers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { calls: { type: "string" } },
});
const CALLS = Number(values.calls ?? 500);
const command = await mcpServerCommand("everything");

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms`;
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

const direct = await McpBridge.start(command);
const directSamples = await time(() => direct.call("echo", { message: "hi" }));
await direct.close();

let bridged: SkillRunner | null = null;
const provider = await KnarrNode.create({
  host: "127.0.0.1",
  runner: {
    has: (name) => bridged?.has(name) ?? false,
    run: (name, input, ctx) => bridged!.run(name, input, ctx),
  },
  policy: { initialCredit: 1e9 },
});
await provider.start({ maintenance: false });
const bridges = await BridgedSkills.start(provider, { [command]: 30 });
bridged = bridges.runner();
const consumer = await KnarrNode.create({ host: "127.0.0.1" });
await consumer.start({ maintenance: false });
await consumer.join([provider.address]);
const [target] = await consumer.query({ name: "echo" }) as QueryResult[];
const wireSamples = await time(async () => {
  const r = await consumer.consumer.request("echo", { message: "hi" }, [
    target!,
  ]);
  if (r.status !== "completed") throw new Error(JSON.stringify(r.error));
});
await consumer.close();
await bridges.close();
await provider.close();

const lines = [
  `MCP echo (server-everything), ${CALLS} calls each, 1 in flight`,
  `direct McpBridge.call():           ${percentiles(directSamples)}`,
  `bridged skill over the knarr wire: ${percentiles(wireSamples)}`,
];
await Deno.stdout.write(new TextEncoder().encode(lines.join("\n") + "\n"));
