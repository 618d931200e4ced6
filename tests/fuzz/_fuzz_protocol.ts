/** What the long run's main thread and its Workers tell each other. */
import type { FuzzInput } from "./fuzz_target.ts";

/** Int32 slots before the cut points in a Worker's shared memory. */
export const SAB_HEADER = 8;
/** Cut points kept in shared memory. */
export const SAB_MAX_CUTS = 64;
/** Bytes of input kept in shared memory (a longer input is saved cut to this). */
export const SAB_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Shared memory of one Worker, as Int32 slots: [0] 0 idle, 1 running an input, 2 shrinking;
 * [1] inputs started; [2] bytes kept; [3] cut points kept; [4] target index; [5] input index;
 * [6] input length; then the cut points, then the input bytes.
 */
export function workerMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer((SAB_HEADER + SAB_MAX_CUTS) * 4 + SAB_MAX_BYTES);
}

/** The input a Worker's shared memory holds now. */
export function exposedInput(sab: SharedArrayBuffer): {
  targetIndex: number;
  index: number;
  input: FuzzInput;
  truncated: boolean;
} {
  const header = new Int32Array(sab, 0, SAB_HEADER + SAB_MAX_CUTS);
  const bytes = new Uint8Array(sab, (SAB_HEADER + SAB_MAX_CUTS) * 4, header[2]);
  return {
    targetIndex: header[4]!,
    index: header[5]!,
    input: {
      data: bytes.slice(),
      cuts: Array.from(header.subarray(SAB_HEADER, SAB_HEADER + header[3]!)),
    },
    truncated: header[6]! > header[2]!,
  };
}

/** A run of `count` inputs of one target, from input `start`. */
export interface ChunkJob {
  target: string;
  start: number;
  count: number;
  /** The run's seed; each batch of inputs has a seed of its own derived from it. */
  seed: number;
  /** Inputs generated at once (one seed each batch). */
  batch: number;
  /** An input that takes at least this long is reported as slow. */
  slowMs: number;
  /** Shrink failing inputs before reporting them. */
  shrink: boolean;
}

/** What a Worker reports. */
export type WorkerReport =
  | { type: "loaded" }
  | { type: "ready" }
  | { type: "closed" }
  | {
    type: "progress";
    target: string;
    done: number;
    failures: number;
    busyMs: number;
    slowestMs: number;
  }
  | {
    type: "crash";
    target: string;
    index: number;
    input: FuzzInput;
    error: string;
  }
  | {
    type: "slow";
    target: string;
    index: number;
    ms: number;
    input: FuzzInput;
  }
  | { type: "stray"; target: string; error: string }
  | { type: "broken"; target: string; error: string }
  | { type: "chunk-done"; target: string; start: number; count: number };

/** The seed of batch `batch` of a target: the same inputs for the same run seed. */
export function batchSeed(seed: number, target: string, batch: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${target}#${batch}`) {
    h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  }
  return h | 0;
}
