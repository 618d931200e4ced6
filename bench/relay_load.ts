/**
 * Keep relay load figures from the neutral load tool (`bench/tools/relay_load.ts`, shared with
 * the Go original): forwarded packets per second over `--pairs` sender/receiver pairs, and the
 * request-reply p50/p99 of `server` requests. Starts `knarr relay` as a child process with its
 * limits lifted, runs each mode `--runs` times, prints every run, the median and the spread, and
 * the relay's resident memory.
 *
 *   deno run -A bench/relay_load.ts [--runs 3] [--pairs 50] [--seconds 4]
 *     [--mode both|throughput|latency] [--cpu-prof DIR]
 *
 * `--cpu-prof DIR` runs the relay under `--cpu-prof` (the profile is written when it stops).
 * The relay CPU time of each throughput run is read from /proc (Linux).
 * Prints figures; never passes or fails on time.
 */
import { parseArgs } from "node:util";
import { startBenchRelay } from "./_knarr_child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    pairs: { type: "string", default: "50" },
    seconds: { type: "string", default: "4" },
    "cpu-prof": { type: "string" },
    mode: { type: "string", default: "both" },
  },
});
const RUNS = Number(values.runs);
const LOAD_TOOL = new URL("./tools/relay_load.ts", import.meta.url).pathname;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

function out(line: string): void {
  Deno.stdout.writeSync(ENCODER.encode(line + "\n"));
}

interface Relay {
  child: Deno.ChildProcess;
  port: number;
}

function startRelay(dir: string): Promise<Relay> {
  return startBenchRelay(dir, {
    denoFlags: values["cpu-prof"]
      ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`]
      : [],
  });
}

/** Runs the load tool once and returns the JSON line it prints. */
async function load(
  port: number,
  mode: "throughput" | "latency",
): Promise<Record<string, number>> {
  const args = [
    "run",
    "-A",
    LOAD_TOOL,
    "--port",
    String(port),
    "--mode",
    mode,
    "--pairs",
    String(values.pairs),
    "--seconds",
    String(values.seconds),
  ];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = DECODER.decode(stdout).trim();
  if (code !== 0) {
    throw new Error(
      `Cannot run relay_load.ts --mode ${mode}: exit code ${code}: ${
        DECODER.decode(stderr).trim()
      }`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

function memoryKiB(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

function cpuSeconds(pid: number): number {
  // utime + stime, in clock ticks (100 per second on Linux).
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
    .split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summary(label: string, unit: string, samples: number[]): string {
  const low = Math.min(...samples);
  const high = Math.max(...samples);
  const spread = median(samples) === 0
    ? 0
    : (high - low) / median(samples) * 100;
  return `  ${label}: median ${Math.round(median(samples))} ${unit}, ` +
    `range ${Math.round(low)}–${Math.round(high)} (spread ${
      spread.toFixed(1)
    }%) over ${samples.length} runs`;
}

async function throughputRuns(relay: Relay): Promise<void> {
  const rates: number[] = [];
  out(`throughput: relay_load.ts --pairs ${values.pairs}`);
  for (let i = 0; i < RUNS; i++) {
    const cpuBefore = cpuSeconds(relay.child.pid);
    const result = await load(relay.port, "throughput");
    const cpu = cpuSeconds(relay.child.pid) - cpuBefore;
    rates.push(result.pkts_per_s!);
    out(
      `  run ${
        i + 1
      }: ${result.pkts_per_s} pkt/s (${result.received}/${result.sent} received in ${result.seconds} s; relay CPU ${
        cpu.toFixed(2)
      } s)`,
    );
  }
  out(summary("forwarded", "pkt/s", rates));
}

async function latencyRuns(relay: Relay): Promise<void> {
  const p50: number[] = [];
  const p99: number[] = [];
  out("latency: relay_load.ts --mode latency (request-reply to server)");
  for (let i = 0; i < RUNS; i++) {
    const result = await load(relay.port, "latency");
    p50.push(result.p50_us!);
    p99.push(result.p99_us!);
    out(`  run ${i + 1}: p50 ${result.p50_us} µs, p99 ${result.p99_us} µs`);
  }
  out(summary("p50", "µs", p50));
  out(summary("p99", "µs", p99));
}

const dir = await Deno.makeTempDir();
const relay = await startRelay(dir);
try {
  const idle = memoryKiB(relay.child.pid);
  out(
    `knarr relay pid ${relay.child.pid} on 127.0.0.1:${relay.port}; ${navigator.hardwareConcurrency} CPUs; Deno ${Deno.version.deno}; ${RUNS} runs per mode`,
  );
  out(`relay RSS at start: ${(idle.rss / 1024).toFixed(1)} MiB`);
  if (values.mode !== "latency") await throughputRuns(relay);
  if (values.mode !== "throughput") await latencyRuns(relay);
  const after = memoryKiB(relay.child.pid);
  out(
    `relay RSS after the runs: ${(after.rss / 1024).toFixed(1)} MiB (peak ${
      (after.peak / 1024).toFixed(1)
    } MiB)`,
  );
} finally {
  relay.child.kill("SIGTERM");
  await relay.child.status;
  await Deno.remove(dir, { recursive: true });
}
