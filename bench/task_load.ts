/**
 * The issue-10 task figures with the neutral load tool (`bench/tools/knarr_task_load.ts`, a
 * byte-for-byte copy of `shared/tools/`): it speaks the wire directly, so it times the
 * server, not our client. Starts `knarr serve` as a child process with the bundled
 * `skills/echo.ts` (sandboxed, price 0), then runs each scenario `--runs` times and prints
 * the median and the spread, the server's CPU time per task and its idle RSS.
 *
 *   deno run -A bench/task_load.ts [--runs 3]
 *
 * Prints figures; never passes or fails on time.
 */
import { parseArgs } from "node:util";
import { startServe } from "./_serve_child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
  },
});
const RUNS = Number(values.runs);
const TOOL = new URL("./tools/knarr_task_load.ts", import.meta.url).pathname;

const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

interface LoadResult {
  completed: number;
  errors: Record<string, number>;
  tasks_per_s: number;
  p50_us: number;
  p99_us: number;
}

async function load(port: number, n: number, conc: number) {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TOOL,
      "--port",
      String(port),
      "--n",
      String(n),
      "--conc",
      String(conc),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error("The load tool failed");
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as LoadResult;
}

function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[s.length >> 1]} (${s[0]}–${s[s.length - 1]})`;
}

const serve = await startServe({ echoPrice: 0 });
try {
  await new Promise((r) => setTimeout(r, 1500));
  out(`idle knarr serve RSS: ${(serve.rssBytes() / 1048576).toFixed(1)} MiB`);
  const scenarios = [
    { name: "1 in flight", n: 3000, conc: 1 },
    { name: "8 in flight", n: 2000, conc: 8 },
    { name: "32 in flight", n: 5000, conc: 32 },
  ];
  for (const s of scenarios) {
    const rates: number[] = [], p50: number[] = [], p99: number[] = [];
    const refused: number[] = [], cpu: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const before = serve.cpuSeconds();
      const r = await load(serve.port, s.n, s.conc);
      cpu.push(Math.round((serve.cpuSeconds() - before) / s.n * 1e6));
      rates.push(r.tasks_per_s);
      p50.push(r.p50_us);
      p99.push(r.p99_us);
      refused.push(Object.values(r.errors).reduce((a, b) => a + b, 0));
      if (Object.keys(r.errors).length > 0) {
        out(`  run ${i + 1}: errors ${JSON.stringify(r.errors)}`);
      }
    }
    out(
      `${s.name} (n ${s.n}): ${spread(rates)} tasks/s, p50 ${
        spread(p50)
      } µs, ` +
        `p99 ${spread(p99)} µs, refused ${spread(refused)}, ` +
        `server CPU ${spread(cpu)} µs/task (${RUNS} runs)`,
    );
  }
  out(
    `knarr serve RSS after load: ${
      (serve.rssBytes() / 1048576).toFixed(1)
    } MiB`,
  );
} finally {
  await serve.stop();
}
