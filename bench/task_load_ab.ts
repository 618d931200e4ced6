/**
 * An interleaved A/B of the task path between two checkouts of knarr: starts `knarr
 * serve` (bundled echo, price 0) from each, then loads them in turn (A B, B A, …) with
 * the neutral load tool, 5,000 tasks at 32 in flight, so a busy machine's drift hits both
 * alike. Prints the median (range) of tasks/s and of server CPU per task for each.
 *
 *   git archive <commit> | tar -x -C /tmp/knarr-a
 *   flock /tmp/knarr-bench.lock deno run -A bench/task_load_ab.ts --a /tmp/knarr-a --b . [--pairs 8]
 *
 * Prints figures; never passes or fails on time.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { ServeChild, StartServeOptions } from "./_serve_child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string" },
    b: { type: "string", default: "." },
    pairs: { type: "string", default: "8" },
  },
});
if (!values.a) {
  throw new TypeError(
    "Usage: task_load_ab.ts --a <dir> [--b <dir>] [--pairs 8]",
  );
}
const PAIRS = Number(values.pairs);
const TOOL = new URL("./tools/knarr_task_load.ts", import.meta.url).pathname;
const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

type Start = (options?: StartServeOptions) => Promise<ServeChild>;
async function starter(dir: string): Promise<Start> {
  const url = pathToFileURL(resolve(dir, "bench/_serve_child.ts")).href;
  return ((await import(url)) as { startServe: Start }).startServe;
}

async function load(port: number): Promise<number> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TOOL,
      "--port",
      String(port),
      "--n",
      "5000",
      "--conc",
      "32",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("The load tool failed");
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return (JSON.parse(lines[lines.length - 1]!) as { tasks_per_s: number })
    .tasks_per_s;
}

function spread(xs: number[]): string {
  const s = [...xs].sort((x, y) => x - y);
  return `${s[s.length >> 1]} (${s[0]}–${s[s.length - 1]})`;
}

const servers = {
  a: await (await starter(values.a))({ echoPrice: 0 }),
  b: await (await starter(values.b))({ echoPrice: 0 }),
};
const figures = {
  a: { rate: [] as number[], cpu: [] as number[] },
  b: { rate: [] as number[], cpu: [] as number[] },
};
try {
  await new Promise((r) => setTimeout(r, 1500));
  await load(servers.a.port); // warm-up
  await load(servers.b.port);
  for (let i = 0; i < PAIRS; i++) {
    for (
      const side of i % 2 === 0 ? ["a", "b"] as const : ["b", "a"] as const
    ) {
      const s = servers[side];
      const before = s.cpuSeconds();
      figures[side].rate.push(await load(s.port));
      figures[side].cpu.push(
        Math.round((s.cpuSeconds() - before) / 5000 * 1e6),
      );
    }
  }
} finally {
  await servers.a.stop();
  await servers.b.stop();
}
for (const side of ["a", "b"] as const) {
  out(
    `${side} (${side === "a" ? values.a : values.b}): ${
      spread(figures[side].rate)
    } tasks/s, ` +
      `server CPU ${
        spread(figures[side].cpu)
      } µs/task (${PAIRS} runs, 32 in flight)`,
  );
}
