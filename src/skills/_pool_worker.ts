/** What a skill pool is made of: its settings, one run, and how one of its Workers starts. */
import type { AssetStore } from "../assets/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { RunnerRequest } from "./_protocol.ts";
import { AssetInbox } from "./_asset_inbox.ts";
import { parseJsonObject } from "./_json_check.ts";
import {
  type CallResult,
  SandboxWorker,
  type SandboxWorkerInit,
} from "./_sandbox_worker.ts";
import type { Clock, RunOutcome } from "./types.ts";

/** What a running handler's context requests are answered with. */
export interface RunScope {
  callerNodeId: string;
  jobId: string;
  depth: number;
  /** Aborted when the run ends. */
  signal: AbortSignal;
  /** The running Worker's inbox, where `ctx.getAsset()` stages; none without assets. */
  inbox: AssetInbox | undefined;
}

/** How to start a Worker of one skill; permissions depend on the Worker's inbox. */
export interface PoolWorkerInit extends Omit<SandboxWorkerInit, "permissions"> {
  /** The permissions of a Worker that may read `inboxDir` (undefined: no assets). */
  permissions: (inboxDir: string | undefined) => Deno.PermissionOptionsObject;
}

/** Settings and collaborators shared by every pool of a sandbox. */
export interface PoolEnv {
  logger: Logger;
  clock: Clock;
  warmWorkers: number;
  idleTimeoutMs: number;
  maxStuckWorkers: number;
  abortGraceMs: number;
  maxOutputBytes: number;
  /** Where run inputs and `ctx.getAsset()` are staged from; each Worker gets an inbox. */
  assets: AssetStore | undefined;
  onRequest: (
    request: RunnerRequest,
    scope: RunScope,
  ) => Promise<string | null>;
}

/** One run, as the pool sees it. */
export interface PoolRun {
  callerNodeId: string;
  jobId: string;
  timeoutMs: number;
  depth: number;
  signal?: AbortSignal;
}

/**
 * Makes a Worker's asset inbox (when the sandbox has assets), then starts the Worker
 * with read permission on it; the inbox is removed again when the start fails.
 */
export async function startPoolWorker(
  init: PoolWorkerInit,
  assets: AssetStore | undefined,
  options: { signal?: AbortSignal },
  onRemoveError: (inbox: AssetInbox, error: unknown) => void,
): Promise<{ worker: SandboxWorker; inbox: AssetInbox | undefined }> {
  const inbox = assets === undefined
    ? undefined
    : await AssetInbox.create(assets);
  try {
    const { permissions, ...rest } = init;
    const worker = await SandboxWorker.start(
      { ...rest, permissions: permissions(inbox?.dir) },
      options,
    );
    return { worker, inbox };
  } catch (error) {
    await inbox?.remove().catch((e) => onRemoveError(inbox, e));
    throw error;
  }
}

/** A promise that resolves to null when `signal` aborts, and a way to stop listening. */
export function whenAborted(
  signal: AbortSignal,
): { promise: Promise<null>; dispose: () => void } {
  let onAbort = () => {};
  const promise = new Promise<null>((resolve) => {
    onAbort = () => resolve(null);
    if (signal.aborted) resolve(null);
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return {
    promise,
    dispose: () => signal.removeEventListener("abort", onAbort),
  };
}

/** A run waiting for a Worker of its pool to come free. */
export interface Waiter {
  resolve: (worker: SandboxWorker) => void;
  reject: (error: unknown) => void;
}

/**
 * Waits in `waiters` (the pool hands the next free Worker to the first) until served
 * or `signal` aborts; an aborted wait leaves the list and then calls `onLeave`.
 */
export function queueWaiter(
  waiters: Waiter[],
  signal: AbortSignal,
  onLeave: () => void,
): Promise<SandboxWorker> {
  return new Promise((resolve, reject) => {
    const waiter: Waiter = {
      resolve: (w) => {
        signal.removeEventListener("abort", onAbort);
        resolve(w);
      },
      reject: (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    };
    const onAbort = () => {
      const index = waiters.indexOf(waiter);
      if (index >= 0) waiters.splice(index, 1);
      reject(signal.reason);
      onLeave();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    waiters.push(waiter);
  });
}

/**
 * A finished call's outcome, and what becomes of its Worker: back to the pool, or
 * terminated (a dead one, or one whose output fails the check: the runner checks
 * outputs itself, so such a Worker has been tampered with).
 */
export function callOutcome(
  result: CallResult,
  maxOutputBytes: number,
  skillName: string,
): { outcome: RunOutcome; next: "release" | "tampered" } {
  if (result.type === "error") {
    return {
      outcome: { status: "error", detail: result.detail },
      next: "release",
    };
  }
  try {
    const output = parseJsonObject(
      result.json,
      maxOutputBytes,
      `output of skill "${skillName}"`,
    );
    return { outcome: { status: "ok", output }, next: "release" };
  } catch (error) {
    return {
      outcome: { status: "error", detail: (error as Error).message },
      next: "tampered",
    };
  }
}

/** Logs that a Worker's asset inbox could not be removed. */
export function warnInboxRemove(
  logger: Logger,
  skillName: string,
  inbox: AssetInbox,
  error: unknown,
): void {
  logger.warn(
    `Cannot remove the asset inbox "${inbox.dir}" of skill "${skillName}": ${
      (error as Error).message
    }`,
  );
}
