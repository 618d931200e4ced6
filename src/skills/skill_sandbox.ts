/**
 * Runs skill handlers in permission-scoped Workers, one pool per skill.
 *
 * Each sandbox Worker is a pair (see worker_host.ts): a web `Worker` carrying the
 * skill's Deno permissions, and inside it a `node:worker_threads` Worker that inherits
 * them and adds a V8 heap limit, because on Deno 2.9.6:
 * - web Workers take no heap limit (`resourceLimits` exists only for node Workers), and
 *   a Worker reaching V8's default limit (~4 GB) aborts the whole process;
 * - `Worker.terminate()` does not interrupt synchronous JavaScript: a terminated
 *   Worker in `while (true) {}` keeps its thread spinning until the process exits.
 *   Only the heap-limit callback, which runs on the Worker's own thread, stops it.
 * So a JS-heap bomb dies at `memoryMb` and the node lives on; a synchronous infinite
 * loop gets TIMEOUT and a fresh Worker, but its thread is lost, and a skill that
 * does that `maxStuckWorkers` times is disabled until it is reloaded. Memory outside
 * the V8 heap (ArrayBuffer contents) has no limit: a handler that yields is stopped
 * at its deadline, one allocating in a synchronous loop is not. A nested Worker takes
 * ~0.5 s to start (Deno), so one per skill is kept warm.
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { AssetStore } from "../assets/mod.ts";
import { SkillLoadError, UnknownSkillError } from "./errors.ts";
import { jsonText, parseJsonObject } from "./_json_check.ts";
import { databasePaths, workerPermissions } from "./_permissions.ts";
import type { RunnerRequest } from "./_protocol.ts";
import type { PoolEnv, RunScope } from "./_pool_worker.ts";
import { SkillPool } from "./_skill_pool.ts";
import type {
  Clock,
  LocalCall,
  RunOptions,
  RunOutcome,
  SkillSpec,
  SkillStats,
} from "./types.ts";

/** Collaborators of {@linkcode SkillSandbox}. */
export interface SkillSandboxDeps {
  /** Where handler failures and Worker trouble are logged. Default: silent. */
  logger?: Logger;
  /** Monotonic milliseconds, for run durations. Default: `performance.now()`. */
  clock?: Clock;
  /** Runs `ctx.callLocal()`; default: this sandbox's own `run()`. */
  callLocal?: LocalCall;
  /**
   * Backs `knarr-asset://` inputs, `ctx.getAsset()` and `ctx.storeAsset()`. Each Worker
   * may read only its own inbox, `<dir>/.inbox/<id>/`, where a run's assets are staged.
   */
  assets?: AssetStore;
}

/** Options for {@linkcode SkillSandbox}. */
export interface SkillSandboxOptions {
  /** Run timeout of skills whose spec has none, in ms. Default 30000. */
  defaultTimeoutMs?: number;
  /** Runs at once per skill whose spec has none. Default 4. */
  maxConcurrency?: number;
  /** Largest handler output as compact JSON, in bytes. Default 1048576 (a wire frame). */
  maxOutputBytes?: number;
  /** V8 old-generation heap limit of each handler, in MiB. Default 256. */
  memoryMb?: number;
  /** Workers kept started per skill between runs. Default 1. */
  warmWorkers?: number;
  /** Extra idle Workers are terminated after this many ms. Default 60000. */
  idleTimeoutMs?: number;
  /** Deepest `ctx.callLocal()` nesting. Default 8. */
  maxCallDepth?: number;
  /** Timed-out Workers stuck in synchronous code before a skill is disabled. Default 3. */
  maxStuckWorkers?: number;
  /** How long a handler module may take to load, in ms. Default 30000. */
  loadTimeoutMs?: number;
  /** Files no handler may read; SQLite's -wal/-shm/-journal files are added. Default []. */
  protectedPaths?: readonly string[];
}

const DEFAULTS = {
  defaultTimeoutMs: 30_000,
  maxConcurrency: 4,
  maxOutputBytes: 1_048_576,
  memoryMb: 256,
  warmWorkers: 1,
  idleTimeoutMs: 60_000,
  maxCallDepth: 8,
  maxStuckWorkers: 3,
  loadTimeoutMs: 30_000,
} as const;

/** How long a timed-out Worker has to acknowledge the abort before it counts as stuck. */
const ABORT_GRACE_MS = 250;

const HOST_URL = new URL("./worker_host.ts", import.meta.url);

/**
 * The skill sandbox: each skill runs in its own Workers with exactly the Deno
 * permissions it declares, a heap limit, a deadline and a concurrency bound.
 *
 * @example
 * ```ts
 * import { SkillSandbox } from "./mod.ts";
 * await using sandbox = new SkillSandbox();
 * await sandbox.load({
 *   name: "echo",
 *   handlerPath: "/srv/node/skills/echo.ts",
 *   handlerExport: "handle",
 *   net: [],
 *   read: [],
 * });
 * const outcome = await sandbox.run("echo", { text: "hi" }, {
 *   callerNodeId: "ab".repeat(32),
 *   jobId: "job-1",
 * });
 * if (outcome.status === "ok") console.log(outcome.output); // { text: "hi" }
 * ```
 */
export class SkillSandbox {
  #logger: Logger;
  #clock: Clock;
  #callLocal: LocalCall;
  #assets: AssetStore | undefined;
  #options: Required<Omit<SkillSandboxOptions, "protectedPaths">>;
  #protectedPaths: string[];
  #pools = new Map<string, SkillPool>();
  #specs = new Map<string, SkillSpec>();
  #retiring = new Set<Promise<void>>();
  #closed = false;

  /** Takes the logger, clock, `callLocal` and asset store, and the limits (every one optional). */
  constructor(deps: SkillSandboxDeps = {}, options: SkillSandboxOptions = {}) {
    this.#logger = deps.logger ?? SILENT_LOGGER;
    this.#clock = deps.clock ?? { now: () => performance.now() };
    this.#callLocal = deps.callLocal ??
      ((name, input, ctx) => this.run(name, input, ctx));
    this.#assets = deps.assets;
    this.#options = { ...DEFAULTS, ...definedOnly(options) };
    this.#protectedPaths = (options.protectedPaths ?? []).flatMap(
      databasePaths,
    );
  }

  /** Names of the loaded skills. */
  names(): string[] {
    return [...this.#pools.keys()];
  }

  /** True when a skill of this name is loaded. */
  has(name: string): boolean {
    return this.#pools.has(name);
  }

  /** Runs of a loaded skill at once (its Workers), or undefined when it is not loaded. */
  slots(name: string): number | undefined {
    return this.#pools.get(name)?.maxConcurrency;
  }

  /** The spec a skill was loaded with. */
  spec(name: string): SkillSpec | undefined {
    return this.#specs.get(name);
  }

  /** Worker counts of a skill, for diagnostics. */
  stats(name: string): SkillStats | undefined {
    return this.#pools.get(name)?.stats();
  }

  /**
   * Loads (or reloads) a skill: its module is imported in a first Worker, which stays
   * warm. On failure throws `SkillLoadError` or `SkillPermissionError` and keeps any
   * version already loaded, so a broken edit does not take a skill down.
   */
  async load(
    spec: SkillSpec,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#closed) {
      throw new SkillLoadError(
        spec.name,
        `Cannot load skill "${spec.name}": sandbox closed`,
      );
    }
    const hostPath = fileURLToPath(HOST_URL);
    const assetDir = this.#assets?.dir;
    const permissions = (inboxDir: string | undefined) =>
      workerPermissions(spec, {
        hostPath,
        ...(assetDir === undefined ? {} : { assetDir }),
        ...(inboxDir === undefined ? {} : { inboxDir }),
        protectedPaths: this.#protectedPaths,
      });
    const o = this.#options;
    const pool = await SkillPool.create(
      spec.name,
      {
        skill: spec.name,
        hostUrl: HOST_URL,
        handlerUrl: pathToFileURL(spec.handlerPath).href,
        exportName: spec.handlerExport,
        permissions,
        maxOutputBytes: o.maxOutputBytes,
        memoryMb: o.memoryMb,
        loadTimeoutMs: o.loadTimeoutMs,
      },
      this.#poolEnv(),
      {
        timeoutMs: deadlineMs(spec.timeoutMs, o.defaultTimeoutMs),
        maxConcurrency: Math.max(1, spec.maxConcurrency ?? o.maxConcurrency),
      },
      options,
    );
    if (this.#closed) {
      await pool.close();
      throw new SkillLoadError(
        spec.name,
        `Cannot load skill "${spec.name}": sandbox closed`,
      );
    }
    const previous = this.#pools.get(spec.name);
    this.#pools.set(spec.name, pool);
    this.#specs.set(spec.name, spec);
    if (previous) this.#retire(previous);
    this.#logger.debug(
      `Loaded skill "${spec.name}" from "${spec.handlerPath}"`,
    );
  }

  /**
   * Runs a skill. Top-level input strings `knarr-asset://<sha256>` of stored assets
   * reach the handler as paths in its Worker's inbox, readable for this run only;
   * other values, unknown refs included, pass unchanged. Handler faults never throw:
   * they are `{ status: "error", detail }` (the detail is for the provider's log, not
   * the caller) or `{ status: "timeout" }`.
   * Throws `UnknownSkillError` for a skill that is not loaded and rejects with the
   * signal's reason when `options.signal` aborts.
   */
  run(
    name: string,
    input: JsonObject,
    options: RunOptions,
  ): Promise<RunOutcome> {
    const pool = this.#pools.get(name);
    if (pool === undefined) return Promise.reject(new UnknownSkillError(name));
    return pool.run(input, {
      callerNodeId: options.callerNodeId,
      jobId: options.jobId,
      timeoutMs: deadlineMs(options.timeoutMs, pool.timeoutMs),
      depth: options.depth ?? 0,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Deregisters a skill; runs in progress finish first. False if it was not loaded. */
  async unload(name: string): Promise<boolean> {
    const pool = this.#pools.get(name);
    if (pool === undefined) return false;
    this.#pools.delete(name);
    this.#specs.delete(name);
    await pool.drain();
    return true;
  }

  /** Terminates every Worker; runs in progress end with an error. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    this.#specs.clear();
    await Promise.all(pools.map((pool) => pool.close()));
    while (this.#retiring.size > 0) await Promise.all([...this.#retiring]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #retire(pool: SkillPool): void {
    const task = pool.drain().finally(() => this.#retiring.delete(task));
    this.#retiring.add(task);
  }

  #poolEnv(): PoolEnv {
    const o = this.#options;
    return {
      logger: this.#logger,
      clock: this.#clock,
      warmWorkers: o.warmWorkers,
      idleTimeoutMs: o.idleTimeoutMs,
      maxStuckWorkers: o.maxStuckWorkers,
      abortGraceMs: ABORT_GRACE_MS,
      maxOutputBytes: o.maxOutputBytes,
      assets: this.#assets,
      onRequest: (request, scope) => this.#answer(request, scope),
    };
  }

  /** Answers a handler's `ctx` request; a rejection becomes an error in the handler. */
  async #answer(
    request: RunnerRequest,
    scope: RunScope,
  ): Promise<string | null> {
    switch (request.op) {
      case "callLocal": {
        const depth = scope.depth + 1;
        if (depth > this.#options.maxCallDepth) {
          throw new RangeError(
            `Cannot call skill "${request.skill}": call depth ${depth} exceeds maximum ${this.#options.maxCallDepth}`,
          );
        }
        const input = parseJsonObject(
          request.input,
          this.#options.maxOutputBytes,
          `input for skill "${request.skill}"`,
        );
        const outcome = await this.#callLocal(request.skill, input, {
          callerNodeId: scope.callerNodeId,
          jobId: scope.jobId,
          depth,
          signal: scope.signal,
        });
        switch (outcome.status) {
          case "ok":
            return jsonText(outcome.output);
          case "timeout":
            throw new Error(`Cannot call skill "${request.skill}": timed out`);
          case "error":
            throw new Error(
              `Cannot call skill "${request.skill}": ${outcome.detail}`,
            );
        }
        break;
      }
      case "getAsset":
        if (scope.inbox === undefined) {
          throw new Error(`Cannot getAsset: this node has no asset directory`);
        }
        return await scope.inbox.stage(request.hash, { signal: scope.signal });
      case "storeAsset":
        return await this.#assetStore(request.op).put(request.bytes);
    }
  }

  #assetStore(op: string): AssetStore {
    if (this.#assets === undefined) {
      throw new Error(`Cannot ${op}: this node has no asset directory`);
    }
    return this.#assets;
  }
}

/** Longest delay `setTimeout` honours; larger ones fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** A usable deadline: the fallback for none, zero, negative or NaN; capped for timers. */
function deadlineMs(timeoutMs: number | undefined, fallback: number): number {
  const ms = timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : fallback;
  return Math.min(ms, MAX_TIMER_MS);
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}
