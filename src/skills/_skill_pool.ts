/** The Workers of one loaded skill: warm reuse, a concurrency bound, deadlines, replacement. */
import type { JsonObject } from "../wire/mod.ts";
import type { AssetInbox } from "./_asset_inbox.ts";
import { jsonText } from "./_json_check.ts";
import type { CallResult, SandboxWorker } from "./_sandbox_worker.ts";
import {
  callOutcome,
  type PoolEnv,
  type PoolRun,
  type PoolWorkerInit,
  queueWaiter,
  startPoolWorker,
  type Waiter,
  warnInboxRemove,
  whenAborted,
} from "./_pool_worker.ts";
import type { RunOutcome, SkillStats } from "./types.ts";

const TIMED_OUT = Symbol("timed out");
/** Why a run's scope ends (a fixed reason: `abort()` alone builds a DOMException per run). */
const RUN_ENDED = Symbol("run ended");

/** The Workers of one skill version. */
export class SkillPool {
  readonly name: string;
  readonly timeoutMs: number;
  readonly maxConcurrency: number;
  #init: PoolWorkerInit;
  #env: PoolEnv;
  #inboxes = new Map<SandboxWorker, AssetInbox>();
  #idle: SandboxWorker[] = [];
  #idleTimers = new Map<SandboxWorker, ReturnType<typeof setTimeout>>();
  #busy = new Set<SandboxWorker>();
  #starting = 0;
  #waiters: Waiter[] = [];
  #background = new Set<Promise<unknown>>();
  #stuck = 0;
  #disabled: string | null = null;
  #draining = false;
  #closed = false;
  #drained: (() => void) | null = null;

  private constructor(
    name: string,
    init: PoolWorkerInit,
    env: PoolEnv,
    limits: { timeoutMs: number; maxConcurrency: number },
  ) {
    this.name = name;
    this.#init = init;
    this.#env = env;
    this.timeoutMs = limits.timeoutMs;
    this.maxConcurrency = limits.maxConcurrency;
  }

  /**
   * Loads the skill in a first Worker, which stays warm; throws `SkillLoadError`, or
   * `SkillPermissionError` from `init.permissions`.
   */
  static async create(
    name: string,
    init: PoolWorkerInit,
    env: PoolEnv,
    limits: { timeoutMs: number; maxConcurrency: number },
    options: { signal?: AbortSignal } = {},
  ): Promise<SkillPool> {
    const pool = new SkillPool(name, init, env, limits);
    const worker = await pool.#start(options);
    pool.#release(worker);
    return pool;
  }

  /** Counts for diagnostics and tests. */
  stats(): SkillStats {
    return {
      idle: this.#idle.length,
      busy: this.#busy.size,
      starting: this.#starting,
      queued: this.#waiters.length,
      stuck: this.#stuck,
      disabled: this.#disabled !== null,
    };
  }

  /**
   * Runs the handler on `input`, its stored `knarr-asset://` refs staged into the
   * Worker's inbox first; rejects only when `run.signal` aborts.
   */
  async run(input: JsonObject, run: PoolRun): Promise<RunOutcome> {
    run.signal?.throwIfAborted();
    if (this.#disabled !== null) {
      return { status: "error", detail: this.#disabled };
    }
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(TIMED_OUT), run.timeoutMs);
    const onCancel = () => stop.abort(run.signal?.reason);
    run.signal?.addEventListener("abort", onCancel, { once: true });
    const scope = new AbortController();
    const started = this.#env.clock.now();
    try {
      let worker: SandboxWorker;
      try {
        worker = await this.#acquire(stop.signal);
      } catch (error) {
        if (stop.signal.aborted) return this.#stopped(stop.signal.reason);
        return { status: "error", detail: (error as Error).message };
      }
      const inbox = this.#inboxes.get(worker);
      let staged = input;
      try {
        if (inbox) {
          staged = await inbox.stageRefs(input, { signal: stop.signal });
        }
      } catch (error) {
        await this.#empty(worker, scope);
        this.#release(worker);
        if (stop.signal.aborted) return this.#stopped(stop.signal.reason);
        return {
          status: "error",
          detail: `Cannot stage the input assets of skill "${this.name}": ${
            (error as Error).message
          }`,
        };
      }
      const stopped = whenAborted(stop.signal);
      const result = await Promise.race([
        worker.call(
          jsonText(staged),
          run,
          (request) =>
            this.#env.onRequest(request, {
              callerNodeId: run.callerNodeId,
              jobId: run.jobId,
              depth: run.depth,
              signal: scope.signal,
              inbox,
            }),
        ),
        stopped.promise,
      ]);
      stopped.dispose();
      if (result === null) {
        // Terminated; its inbox is removed with it.
        this.#abandon(worker);
        return this.#stopped(stop.signal.reason);
      }
      await this.#empty(worker, scope);
      this.#busy.delete(worker);
      return this.#finish(worker, result);
    } finally {
      clearTimeout(timer);
      run.signal?.removeEventListener("abort", onCancel);
      scope.abort(RUN_ENDED);
      if (this.#env.logger.enabled("debug")) {
        this.#env.logger.debug(
          `Skill "${this.name}" run for task ${run.jobId} took ${
            Math.round(this.#env.clock.now() - started)
          } ms`,
        );
      }
    }
  }

  /** Stops taking runs; resolves once runs in progress have ended, then closes. */
  async drain(): Promise<void> {
    if (this.#closed) return;
    this.#draining = true;
    for (const worker of this.#idle.splice(0)) this.#discard(worker);
    if (this.#busy.size > 0 || this.#starting > 0 || this.#waiters.length > 0) {
      await new Promise<void>((resolve) => this.#drained = resolve);
    }
    await this.close();
  }

  /** Terminates every Worker now; runs in progress end with an error. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#draining = true;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new Error(`Skill "${this.name}" was unloaded`));
    }
    for (const worker of [...this.#idle, ...this.#busy]) {
      this.#discard(worker, `Skill "${this.name}" was unloaded`);
    }
    this.#idle = [];
    this.#busy.clear();
    while (this.#background.size > 0) {
      await Promise.allSettled([...this.#background]);
    }
  }

  #finish(worker: SandboxWorker, result: CallResult): RunOutcome {
    const { outcome, next } = callOutcome(
      result,
      this.#env.maxOutputBytes,
      this.name,
    );
    if (next === "release" && !worker.dead) this.#release(worker);
    else if (next === "tampered") {
      this.#discard(worker, "Worker sent an invalid output");
    } else this.#discard(worker);
    return outcome;
  }

  /**
   * Empties a Worker's inbox once the run's context requests have settled (so none
   * stages a file afterwards); a Worker whose inbox cannot be emptied is terminated.
   */
  async #empty(worker: SandboxWorker, scope: AbortController): Promise<void> {
    const inbox = this.#inboxes.get(worker);
    if (inbox === undefined || worker.dead) return;
    scope.abort(RUN_ENDED);
    try {
      await worker.drained();
      await inbox.clear();
    } catch (error) {
      this.#env.logger.warn(
        `Cannot empty the asset inbox "${inbox.dir}" of skill "${this.name}": ${
          (error as Error).message
        }`,
      );
      worker.terminate(
        "Worker terminated: its asset inbox could not be emptied",
      );
    }
  }

  #stopped(reason: unknown): RunOutcome {
    if (reason === TIMED_OUT) return { status: "timeout" };
    throw reason;
  }

  async #acquire(signal: AbortSignal): Promise<SandboxWorker> {
    if (this.#closed) throw new Error(`Skill "${this.name}" was unloaded`);
    let worker: SandboxWorker | undefined;
    while ((worker = this.#idle.pop()) !== undefined) {
      clearTimeout(this.#idleTimers.get(worker));
      this.#idleTimers.delete(worker);
      if (!worker.dead) {
        this.#busy.add(worker);
        return worker;
      }
      this.#discard(worker);
    }
    if (this.#total() < this.maxConcurrency) {
      // The Worker joins the pool even when this run stops waiting for it.
      const starting = this.#spawn();
      const stopped = whenAborted(signal);
      const first = await Promise.race([starting, stopped.promise]);
      stopped.dispose();
      if (first !== null) {
        this.#busy.add(first);
        return first;
      }
      this.#track(starting.then(
        (w) => this.#release(w),
        (error) => this.#env.logger.warn((error as Error).message),
      ));
      throw signal.reason;
    }
    return await queueWaiter(this.#waiters, signal, () => this.#checkDrained());
  }

  async #spawn(): Promise<SandboxWorker> {
    this.#starting++;
    try {
      return await this.#start();
    } finally {
      this.#starting--;
    }
  }

  /** Makes the Worker's inbox, then starts it with read permission on that inbox. */
  async #start(
    options: { signal?: AbortSignal } = {},
  ): Promise<SandboxWorker> {
    const { worker, inbox } = await startPoolWorker(
      this.#init,
      this.#env.assets,
      options,
      (inbox, error) =>
        warnInboxRemove(this.#env.logger, this.name, inbox, error),
    );
    if (inbox !== undefined) this.#inboxes.set(worker, inbox);
    return worker;
  }

  /** Starts a Worker in the background for waiters or to keep one warm. */
  #refill(): void {
    if (this.#closed || this.#disabled !== null) return;
    const forWaiters = Math.min(
      this.#waiters.length - this.#starting,
      this.maxConcurrency - this.#total(),
    );
    const forWarm = this.#draining ? 0 : this.#env.warmWorkers - this.#total();
    const wanted = Math.max(forWaiters, forWarm);
    for (let i = 0; i < wanted; i++) {
      this.#track(
        this.#spawn().then(
          (worker) => this.#release(worker),
          (error) => {
            this.#env.logger.warn((error as Error).message);
            if (this.#total() === 0) {
              for (const waiter of this.#waiters.splice(0)) {
                waiter.reject(error);
              }
            }
          },
        ),
      );
    }
  }

  #release(worker: SandboxWorker): void {
    this.#busy.delete(worker);
    if (worker.dead || this.#closed) return this.#discard(worker);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#busy.add(worker);
      return waiter.resolve(worker);
    }
    if (this.#draining) return this.#discard(worker);
    this.#idle.push(worker);
    if (this.#idle.length > this.#env.warmWorkers) {
      this.#idleTimers.set(
        worker,
        setTimeout(() => {
          this.#idleTimers.delete(worker);
          const index = this.#idle.indexOf(worker);
          if (index >= 0) {
            this.#idle.splice(index, 1);
            this.#discard(worker);
          }
        }, this.#env.idleTimeoutMs),
      );
    }
  }

  #discard(worker: SandboxWorker, detail?: string): void {
    clearTimeout(this.#idleTimers.get(worker));
    this.#idleTimers.delete(worker);
    this.#busy.delete(worker);
    worker.terminate(detail);
    const inbox = this.#inboxes.get(worker);
    this.#inboxes.delete(worker);
    this.#track(
      worker.drained().then(() => inbox?.remove()).catch((error) =>
        inbox && warnInboxRemove(this.#env.logger, this.name, inbox, error)
      ),
    );
    this.#refill();
    this.#checkDrained();
  }

  /** A timed-out or cancelled call: abort it, then terminate its Worker. */
  #abandon(worker: SandboxWorker): void {
    this.#busy.delete(worker);
    this.#track((async () => {
      const answered = await worker.abort(this.#env.abortGraceMs);
      this.#discard(worker, "Worker terminated after its deadline");
      if (answered) return;
      this.#stuck++;
      this.#env.logger.warn(
        `Skill "${this.name}" stayed busy after its deadline: its Worker was terminated, but Deno cannot interrupt synchronous code, so its thread may keep a CPU busy until the node restarts (${this.#stuck} of ${this.#env.maxStuckWorkers})`,
      );
      if (this.#stuck >= this.#env.maxStuckWorkers && this.#disabled === null) {
        this.#disabled =
          `Skill "${this.name}" is disabled: ${this.#stuck} Workers stayed busy after their deadline; fix the handler and reload it`;
        this.#env.logger.error(this.#disabled);
        for (const idle of this.#idle.splice(0)) this.#discard(idle);
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(new Error(this.#disabled));
        }
      }
    })());
    this.#refill();
  }

  #total(): number {
    return this.#idle.length + this.#busy.size + this.#starting;
  }

  #track(task: Promise<unknown>): void {
    const tracked = task.finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  #checkDrained(): void {
    if (
      this.#drained !== null && this.#busy.size === 0 &&
      this.#starting === 0 && this.#waiters.length === 0
    ) {
      const resolve = this.#drained;
      this.#drained = null;
      resolve();
    }
  }
}
