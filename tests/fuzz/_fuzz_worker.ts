/// <reference lib="deno.worker" />
/**
 * The long run's Worker: runs chunks of one target's inputs. Before each input it copies the
 * input into shared memory and bumps a counter, so the watchdog in the main thread can tell a
 * stuck input and save it even when this thread never answers again.
 */
import fc from "fast-check";
import {
  describeError,
  type FuzzCheck,
  type FuzzInput,
} from "./fuzz_target.ts";
import { TARGETS } from "./registry.ts";
import {
  batchSeed,
  type ChunkJob,
  SAB_HEADER,
  SAB_MAX_CUTS,
  type WorkerReport,
} from "./_fuzz_protocol.ts";

/** Failures reported in full per error kind; the rest are only counted. */
const REPORTS_PER_KIND = 3;

let shared: Int32Array;
let sharedBytes: Uint8Array;
const opened = new Map<string, FuzzCheck>();
const reported = new Map<string, number>();

function post(report: WorkerReport): void {
  self.postMessage(report);
}

/** Copies the input into shared memory and marks it running. */
function expose(targetIndex: number, index: number, input: FuzzInput): void {
  const n = Math.min(input.data.length, sharedBytes.length);
  sharedBytes.set(input.data.subarray(0, n));
  const cuts = input.cuts.slice(0, SAB_MAX_CUTS);
  for (let i = 0; i < cuts.length; i++) shared[SAB_HEADER + i] = cuts[i]!;
  shared[2] = n;
  shared[3] = cuts.length;
  shared[4] = targetIndex;
  shared[5] = index;
  shared[6] = input.data.length;
  Atomics.store(shared, 0, 1);
  Atomics.add(shared, 1, 1);
}

/** An error's kind for de-duplication: its class and message with numbers and quotes blurred. */
function kindOf(error: string): string {
  return error.replace(/\d+/g, "N").replace(/"[^"]*"/g, '"…"').slice(0, 200);
}

async function shrink(
  job: ChunkJob,
  arbitrary: fc.Arbitrary<FuzzInput>,
  check: FuzzCheck,
  batch: number,
  offset: number,
): Promise<FuzzInput | null> {
  const details = await fc.check(
    fc.asyncProperty(arbitrary, (input) => Promise.resolve(check.check(input))),
    {
      seed: batchSeed(job.seed, job.target, batch),
      path: String(offset),
      numRuns: 1,
      interruptAfterTimeLimit: 20_000,
    },
  );
  return details.failed ? details.counterexample?.[0] ?? null : null;
}

async function runChunk(job: ChunkJob): Promise<void> {
  const targetIndex = TARGETS.findIndex((t) => t.name === job.target);
  const target = TARGETS[targetIndex]!;
  let check = opened.get(target.name);
  if (!check) {
    check = await target.open();
    opened.set(target.name, check);
  }
  const arbitrary = target.input();
  let done = 0;
  let failures = 0;
  let slowest = 0;
  let busy = 0;
  let lastReport = performance.now();
  const end = job.start + job.count;
  for (let index = job.start; index < end;) {
    const batch = Math.floor(index / job.batch);
    const inputs = fc.sample(arbitrary, {
      seed: batchSeed(job.seed, job.target, batch),
      numRuns: job.batch,
    });
    for (
      let offset = index % job.batch;
      offset < job.batch && index < end;
      offset++, index++
    ) {
      const input = inputs[offset]!;
      expose(targetIndex, index, input);
      const started = performance.now();
      let error: unknown = null;
      try {
        await check.check(input);
      } catch (caught) {
        error = caught;
      }
      const ms = performance.now() - started;
      Atomics.store(shared, 0, 0);
      busy += ms;
      slowest = Math.max(slowest, ms);
      done++;
      if (ms >= job.slowMs) {
        post({ type: "slow", target: job.target, index, ms, input });
      }
      if (error !== null) {
        failures++;
        const text = describeError(error);
        const kind = kindOf(text);
        const seen = reported.get(`${job.target} ${kind}`) ?? 0;
        reported.set(`${job.target} ${kind}`, seen + 1);
        if (seen < REPORTS_PER_KIND) {
          // Shrinking runs the check again: the watchdog keeps watching (the input stays exposed).
          Atomics.store(shared, 0, 2);
          const small = job.shrink
            ? await shrink(job, arbitrary, check, batch, offset).catch(() =>
              null
            )
            : null;
          Atomics.store(shared, 0, 0);
          post({
            type: "crash",
            target: job.target,
            index,
            input: small ?? input,
            error: text,
          });
        }
      }
      if (performance.now() - lastReport > 1_000) {
        post({
          type: "progress",
          target: job.target,
          done,
          failures,
          busyMs: busy,
          slowestMs: slowest,
        });
        done = failures = busy = 0;
        lastReport = performance.now();
      }
    }
  }
  post({
    type: "progress",
    target: job.target,
    done,
    failures,
    busyMs: busy,
    slowestMs: slowest,
  });
  post({
    type: "chunk-done",
    target: job.target,
    start: job.start,
    count: job.count,
  });
}

self.addEventListener("unhandledrejection", (event) => {
  // A promise a decoder left behind failed after its input was done: still a crash of it.
  event.preventDefault();
  const target = TARGETS[shared?.[4] ?? 0]?.name ?? "?";
  post({ type: "stray", target, error: describeError(event.reason) });
});

self.onmessage = async (event: MessageEvent) => {
  const message = event.data as
    | { type: "init"; sab: SharedArrayBuffer }
    | { type: "run"; job: ChunkJob }
    | { type: "close" };
  if (message.type === "init") {
    shared = new Int32Array(message.sab, 0, SAB_HEADER + SAB_MAX_CUTS);
    sharedBytes = new Uint8Array(message.sab, (SAB_HEADER + SAB_MAX_CUTS) * 4);
    post({ type: "ready" });
  } else if (message.type === "run") {
    try {
      await runChunk(message.job);
    } catch (error) {
      post({
        type: "broken",
        target: message.job.target,
        error: describeError(error),
      });
    }
  } else {
    for (const [name, check] of opened) {
      try {
        await check.close?.();
      } catch (error) {
        post({
          type: "stray",
          target: name,
          error: `closing: ${describeError(error)}`,
        });
      }
    }
    opened.clear();
    post({ type: "closed" });
  }
};

// Messages sent before the module graph finished loading are lost: say when to send them.
post({ type: "loaded" });
