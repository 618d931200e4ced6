/**
 * The long fuzz run (`deno task fuzz`): every target's inputs in Workers, a watchdog in this
 * thread that catches an input that never finishes (a hang) and saves it, and a table of inputs,
 * crashes and hangs per target. Failing inputs are saved in tests/fuzz/regressions/, which the
 * normal tests replay.
 *
 *   deno task fuzz [--inputs 1000000] [--target name]… [--seed n] [--workers 2]
 *                  [--hang-ms 30000] [--slow-ms 1000] [--no-shrink] [--out dir] [--list]
 *
 * Exit code 0 when nothing crashed or hung, 1 otherwise, 2 for a usage mistake.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { TARGETS } from "./registry.ts";
import { REGRESSIONS_DIR, saveRegression } from "./regression.ts";
import {
  type ChunkJob,
  exposedInput,
  workerMemory,
  type WorkerReport,
} from "./_fuzz_protocol.ts";

const CHUNK_INPUTS = 5_000;
const BATCH_INPUTS = 500;

const encoder = new TextEncoder();
function say(line: string): void {
  Deno.stdout.writeSync(encoder.encode(line + "\n"));
}

const USAGE =
  "usage: deno task fuzz [--inputs N] [--target NAME]... [--seed N] [--workers N] [--hang-ms MS] [--slow-ms MS] [--no-shrink] [--out DIR] [--list]";

function usage(problem: string): never {
  Deno.stderr.writeSync(encoder.encode(`error: ${problem}\n${USAGE}\n`));
  Deno.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        inputs: { type: "string", default: "1000000" },
        target: { type: "string", multiple: true },
        seed: { type: "string" },
        workers: { type: "string", default: "2" },
        "hang-ms": { type: "string", default: "30000" },
        "slow-ms": { type: "string", default: "1000" },
        "no-shrink": { type: "boolean", default: false },
        out: { type: "string" },
        list: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
})();

function count(name: string, text: string, min: number): number {
  const n = Number(text.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n < min) {
    usage(`--${name} must be an integer of at least ${min} (got "${text}")`);
  }
  return n;
}

if (values.list) {
  for (const t of TARGETS) say(`${t.name.padEnd(24)} ${t.about}`);
  Deno.exit(0);
}

const totalInputs = count("inputs", values.inputs, 1);
const workers = count("workers", values.workers, 1);
const hangMs = count("hang-ms", values["hang-ms"], 100);
const slowMs = count("slow-ms", values["slow-ms"], 1);
const seed = values.seed === undefined
  ? Math.floor(Math.random() * 2 ** 31)
  : count("seed", values.seed, 0);
const outDir = values.out === undefined
  ? REGRESSIONS_DIR
  : new URL(`file://${resolve(values.out)}/`);
const names = (values.target ?? []).flatMap((t) => t.split(","));
for (const name of names) {
  if (!TARGETS.some((t) => t.name === name)) {
    usage(
      `unknown target "${name}"; known: ${
        TARGETS.map((t) => t.name).join(", ")
      }`,
    );
  }
}
const chosen = names.length > 0
  ? TARGETS.filter((t) => names.includes(t.name))
  : TARGETS;

// ------------------------------------------------------------------ plan

const shares = chosen.map((t) => t.longRunShare ?? 1);
const shareSum = shares.reduce((a, b) => a + b, 0);
const jobs: ChunkJob[] = [];
const stats = new Map<string, {
  planned: number;
  done: number;
  crashes: number;
  hangs: number;
  slow: number;
  busyMs: number;
  slowestMs: number;
}>();
chosen.forEach((t, i) => {
  const planned = Math.ceil(totalInputs * shares[i]! / shareSum);
  stats.set(t.name, {
    planned,
    done: 0,
    crashes: 0,
    hangs: 0,
    slow: 0,
    busyMs: 0,
    slowestMs: 0,
  });
  for (let start = 0; start < planned; start += CHUNK_INPUTS) {
    jobs.push({
      target: t.name,
      start,
      count: Math.min(CHUNK_INPUTS, planned - start),
      seed,
      batch: BATCH_INPUTS,
      slowMs,
      shrink: !values["no-shrink"],
    });
  }
});
// Interleave targets so both Workers stay busy with a mix.
jobs.sort((a, b) => a.start - b.start);

say(
  `fuzz: ${chosen.length} targets, ${
    totalInputs.toLocaleString("en")
  } inputs, seed ${seed}, ${workers} workers, hang after ${hangMs} ms`,
);

const saved: string[] = [];
const strays: string[] = [];
let pendingSaves = Promise.resolve();
function save(
  target: string,
  kind: "crash" | "hang",
  input: { data: Uint8Array; cuts: number[] },
  error: string,
): void {
  pendingSaves = pendingSaves.then(async () => {
    const path = await saveRegression(target, kind, input, error, outDir);
    if (!saved.includes(path)) saved.push(path);
  });
}

// ------------------------------------------------------------------ workers

interface Slot {
  worker: Worker;
  sab: SharedArrayBuffer;
  job: ChunkJob | null;
  /** Inputs the current job finished (from progress reports). */
  lastSeq: number;
  lastChange: number;
  closed: Promise<void>;
  close: () => void;
}

const started = performance.now();
let finished!: () => void;
const allDone = new Promise<void>((resolve) => finished = resolve);
const slots: Slot[] = [];

function startSlot(): Slot {
  const sab = workerMemory();
  const worker = new Worker(new URL("./_fuzz_worker.ts", import.meta.url), {
    type: "module",
  });
  let close!: () => void;
  const slot: Slot = {
    worker,
    sab,
    job: null,
    lastSeq: 0,
    lastChange: performance.now(),
    closed: new Promise<void>((resolve) => close = resolve),
    close: () => close(),
  };
  worker.onmessage = (event: MessageEvent<WorkerReport>) =>
    onReport(slot, event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    const target = slot.job?.target ?? "?";
    strays.push(`${target}: worker error ${event.message}`);
    const s = stats.get(target);
    if (s) s.crashes++;
    replace(slot, "its Worker failed");
  };
  return slot;
}

function next(slot: Slot): void {
  const job = jobs.shift();
  if (!job) {
    slot.job = null;
    slot.worker.postMessage({ type: "close" });
    return;
  }
  slot.job = job;
  slot.worker.postMessage({ type: "run", job });
}

function onReport(slot: Slot, report: WorkerReport): void {
  switch (report.type) {
    case "loaded":
      slot.worker.postMessage({ type: "init", sab: slot.sab });
      return;
    case "ready":
      next(slot);
      return;
    case "closed":
      slot.worker.terminate();
      slot.close();
      return;
    case "progress": {
      const s = stats.get(report.target)!;
      s.done += report.done;
      s.crashes += report.failures;
      s.busyMs += report.busyMs;
      s.slowestMs = Math.max(s.slowestMs, report.slowestMs);
      return;
    }
    case "crash":
      save(report.target, "crash", report.input, report.error);
      say(`CRASH ${report.target} input #${report.index}: ${report.error}`);
      return;
    case "slow":
      stats.get(report.target)!.slow++;
      say(
        `SLOW ${report.target} input #${report.index}: ${
          report.ms.toFixed(0)
        } ms (${report.input.data.length} bytes)`,
      );
      return;
    case "stray":
      stats.get(report.target)!.crashes++;
      strays.push(`${report.target}: ${report.error}`);
      say(
        `CRASH ${report.target} (after an input, unhandled): ${report.error}`,
      );
      return;
    case "broken":
      stats.get(report.target)!.crashes++;
      strays.push(`${report.target}: ${report.error}`);
      say(`BROKEN ${report.target}: ${report.error}`);
      next(slot);
      return;
    case "chunk-done":
      next(slot);
      return;
  }
}

/** Gives up on a slot's Worker (it may keep spinning: Deno cannot stop a busy one) and starts another for the rest of its job. */
function replace(slot: Slot, why: string): void {
  const job = slot.job;
  slot.worker.onmessage = null;
  slot.worker.terminate();
  slot.close();
  const index = slots.indexOf(slot);
  const fresh = startSlot();
  slots[index] = fresh;
  if (job) {
    const resumeAt = Math.min(
      exposedInput(slot.sab).index + 1,
      job.start + job.count,
    );
    const rest = job.start + job.count - resumeAt;
    if (rest > 0) jobs.unshift({ ...job, start: resumeAt, count: rest });
    say(
      `(${job.target}: ${why}; a new Worker goes on from input #${resumeAt})`,
    );
  }
}

function watchdog(): void {
  const now = performance.now();
  for (const slot of [...slots]) {
    const header = new Int32Array(slot.sab, 0, 8);
    const seq = Atomics.load(header, 1);
    const phase = Atomics.load(header, 0);
    if (seq !== slot.lastSeq || phase === 0) {
      slot.lastSeq = seq;
      slot.lastChange = now;
      continue;
    }
    if (now - slot.lastChange < hangMs || !slot.job) continue;
    const { index, input, truncated } = exposedInput(slot.sab);
    const target = slot.job.target;
    stats.get(target)!.hangs++;
    stats.get(target)!.done++;
    const error = `no answer within ${hangMs} ms${
      truncated ? " (input cut to 16 MiB)" : ""
    }`;
    say(`HANG ${target} input #${index}: ${error}`);
    save(target, "hang", input, error);
    replace(slot, "hung");
  }
}

for (let i = 0; i < Math.min(workers, jobs.length); i++) {
  slots.push(startSlot());
}
// Workers are threads of this process: its RSS is the whole run's memory.
let peakRss = Deno.memoryUsage().rss;
const timer = setInterval(() => {
  watchdog();
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}, 250);
const progress = setInterval(() => {
  const done = [...stats.values()].reduce((n, s) => n + s.done, 0);
  const seconds = (performance.now() - started) / 1000;
  say(`… ${done.toLocaleString("en")} inputs in ${seconds.toFixed(0)} s`);
}, 15_000);
void (async () => {
  for (;;) {
    const current = [...slots];
    await Promise.all(current.map((s) => s.closed));
    if (slots.every((s, i) => s === current[i])) break;
  }
  finished();
})();
await allDone;
clearInterval(timer);
clearInterval(progress);
await pendingSaves;

// ------------------------------------------------------------------ report

const seconds = (performance.now() - started) / 1000;
const rows = [...stats.entries()];
const total = rows.reduce(
  (t, [, s]) => ({
    done: t.done + s.done,
    crashes: t.crashes + s.crashes,
    hangs: t.hangs + s.hangs,
    slow: t.slow + s.slow,
  }),
  { done: 0, crashes: 0, hangs: 0, slow: 0 },
);
say("");
say(
  "| target                 |    inputs | crashes | hangs | slow (≥" + slowMs +
    " ms) | inputs/s | slowest ms |",
);
say(
  "| ---------------------- | --------: | ------: | ----: | ------: | -------: | ---------: |",
);
for (const [name, s] of rows) {
  const rate = s.busyMs > 0 ? s.done / (s.busyMs / 1000) : 0;
  say(
    `| ${name.padEnd(22)} | ${s.done.toLocaleString("en").padStart(9)} | ${
      String(s.crashes).padStart(7)
    } | ${String(s.hangs).padStart(5)} | ${String(s.slow).padStart(7)} | ${
      Math.round(rate).toLocaleString("en").padStart(8)
    } | ${s.slowestMs.toFixed(1).padStart(10)} |`,
  );
}
say(
  `| **total**              | ${
    total.done.toLocaleString("en").padStart(9)
  } | ${String(total.crashes).padStart(7)} | ${
    String(total.hangs).padStart(5)
  } | ${String(total.slow).padStart(7)} | ${
    Math.round(total.done / seconds).toLocaleString("en").padStart(8)
  } |            |`,
);
say("");
say(
  `${total.done.toLocaleString("en")} inputs in ${
    seconds.toFixed(1)
  } s (seed ${seed}): ${total.crashes} crashes, ${total.hangs} hangs, peak RSS ${
    Math.round(peakRss / 2 ** 20)
  } MiB`,
);
for (const s of strays) say(`  unhandled: ${s}`);
for (const path of saved) say(`  saved ${path}`);
// A Worker stuck in a synchronous loop cannot be stopped; leaving ends it.
Deno.exit(total.crashes + total.hangs > 0 ? 1 : 0);
