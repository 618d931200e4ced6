/** Hot reload: reloads a skill when its handler or a module beside it changes on disk. */
import { dirname, extname, resolve, sep } from "node:path";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { SkillSpec } from "./types.ts";

/** One hot-reload result. */
export type SkillReloadEvent =
  | { type: "reloaded"; name: string }
  | { type: "reload_failed"; name: string; error: Error };

/** What the watcher reloads skills into (a `SkillSandbox`). */
export interface SkillLoader {
  load(spec: SkillSpec, options?: { signal?: AbortSignal }): Promise<void>;
}

/** Collaborators of {@linkcode SkillWatcher}. */
export interface SkillWatcherDeps {
  loader: SkillLoader;
  /** Default: silent. */
  logger?: Logger;
}

/** Options for {@linkcode SkillWatcher}. */
export interface SkillWatcherOptions {
  /** Quiet time after the last change before reloading, in ms. Default 200. */
  debounceMs?: number;
  /**
   * How often module files are also checked with `stat`, in ms, for file systems
   * whose change events are missed (network and container mounts). Default 1000;
   * 0 turns polling off.
   */
  pollMs?: number;
  /** Use file-system change events. Default true; false relies on polling alone. */
  fileEvents?: boolean;
}

const MODULE_EXTENSIONS = new Set([
  ".ts",
  ".tsx",
  ".mts",
  ".js",
  ".jsx",
  ".mjs",
  ".json",
]);
/** Events kept for a consumer that does not keep up. */
const MAX_QUEUED_EVENTS = 1_000;
/** Module files polled at most, across all watched directories. */
const MAX_POLLED_FILES = 1_000;
/** Directories polling does not descend into. */
const SKIPPED_DIRS = new Set(["node_modules", "vendor"]);

/**
 * Watches the directories of handler files with `Deno.watchFs`, and polls their
 * module files' stamps as a fallback; after a burst of edits settles, reloads each
 * affected skill into the loader. A version that fails
 * to load leaves the previous one running (that is `SkillSandbox.load`'s contract).
 *
 * @example
 * ```ts
 * import { SkillSandbox, SkillWatcher } from "./mod.ts";
 * await using sandbox = new SkillSandbox();
 * await using watcher = new SkillWatcher({ loader: sandbox });
 * watcher.watch(specs); // again after every knarr.toml reload
 * for await (const event of watcher.events()) {
 *   if (event.type === "reloaded") reannounce(event.name);
 * }
 * ```
 */
export class SkillWatcher {
  #loader: SkillLoader;
  #logger: Logger;
  #debounceMs: number;
  #pollMs: number;
  #fileEvents: boolean;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> | null = null;
  /** Bumped by `watch()`, so a poll of the previous directories stops. */
  #generation = 0;
  /** Module path → "mtime:size:ino" as last seen, for polling. */
  #stamps = new Map<string, string>();
  #specs = new Map<string, SkillSpec>();
  #watcher: Deno.FsWatcher | null = null;
  #watchedKey = "";
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #reloading = new Map<string, Promise<void>>();
  #again = new Set<string>();
  #tasks = new Set<Promise<void>>();
  #queue: SkillReloadEvent[] = [];
  #wake: (() => void) | null = null;
  #closed = false;

  constructor(deps: SkillWatcherDeps, options: SkillWatcherOptions = {}) {
    this.#loader = deps.loader;
    this.#logger = deps.logger ?? SILENT_LOGGER;
    this.#debounceMs = options.debounceMs ?? 200;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#fileEvents = options.fileEvents ?? true;
  }

  /** Sets the skills to watch, replacing the previous set. */
  watch(specs: readonly SkillSpec[]): void {
    if (this.#closed) return;
    this.#specs = new Map(specs.map((spec) => [spec.name, spec]));
    for (const [name, timer] of this.#timers) {
      if (!this.#specs.has(name)) {
        clearTimeout(timer);
        this.#timers.delete(name);
      }
    }
    const dirs = [
      ...new Set(specs.map((spec) => dirname(resolve(spec.handlerPath)))),
    ].sort();
    const key = dirs.join("\n");
    if (key === this.#watchedKey) return;
    this.#watchedKey = key;
    this.#watcher?.close();
    this.#watcher = null;
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#stamps.clear();
    this.#generation++;
    if (dirs.length === 0) return;
    if (this.#pollMs > 0) {
      this.#startPoll(dirs, true);
      this.#pollTimer = setInterval(
        () => this.#startPoll(dirs, false),
        this.#pollMs,
      );
    }
    if (!this.#fileEvents) return;
    try {
      this.#watcher = Deno.watchFs(dirs, { recursive: true });
    } catch (error) {
      this.#logger.warn(
        `Cannot watch skill directories ${
          dirs.map((d) => `"${d}"`).join(", ")
        }: ${(error as Error).message}${
          this.#pollMs > 0
            ? "; checking them every " + this.#pollMs + " ms"
            : ""
        }`,
      );
      return;
    }
    this.#track(this.#pump(this.#watcher));
  }

  /** Reload events until `close()` or the signal aborts; one consumer at a time. */
  async *events(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<SkillReloadEvent> {
    const { signal } = options;
    const onAbort = () => this.#wake?.();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!this.#closed && !signal?.aborted) {
        const event = this.#queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = null;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Stops watching and ends `events()`; waits for reloads in progress. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    clearInterval(this.#pollTimer);
    await this.#polling;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#wake?.();
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #pump(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        for (const path of event.paths) {
          this.#changed(path);
          // So that the next poll does not report this change again.
          if (this.#stamps.has(path)) {
            this.#stamps.set(path, await stampOf(path));
          }
        }
      }
    } catch (error) {
      if (!this.#closed && this.#watcher === watcher) {
        this.#logger.warn(`Skill watcher stopped: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Stats the module files under `dirs` and reports the ones whose stamp changed or
   * that disappeared. A file not seen before is only recorded: the first pass after
   * `watch()` is the baseline.
   */
  async #poll(dirs: readonly string[]): Promise<void> {
    const generation = this.#generation;
    const current = () => generation === this.#generation && !this.#closed;
    const seen = new Set<string>();
    for (const dir of dirs) {
      for await (const path of moduleFiles(dir, MAX_POLLED_FILES)) {
        if (seen.size >= MAX_POLLED_FILES) break;
        seen.add(path);
        const stamp = await stampOf(path);
        if (!current()) return;
        const before = this.#stamps.get(path);
        this.#stamps.set(path, stamp);
        if (before !== undefined && before !== stamp) this.#changed(path);
      }
    }
    for (const path of [...this.#stamps.keys()]) {
      if (seen.has(path)) continue;
      this.#stamps.delete(path);
      this.#changed(path);
    }
  }

  /** Polls `dirs` unless a poll runs; `after` queues it behind the running one. */
  #startPoll(dirs: readonly string[], after: boolean): void {
    if (this.#polling !== null && !after) return;
    const run: Promise<void> = (this.#polling ?? Promise.resolve())
      .then(() => this.#poll(dirs))
      .catch((error) =>
        this.#logger.warn(
          `Cannot poll skill files: ${(error as Error).message}`,
        )
      )
      .finally(() => {
        if (this.#polling === run) this.#polling = null;
      });
    this.#polling = run;
  }

  #changed(path: string): void {
    const isModule = MODULE_EXTENSIONS.has(extname(path));
    for (const spec of this.#specs.values()) {
      const handler = resolve(spec.handlerPath);
      const dir = dirname(handler) + sep;
      if (path === handler || (isModule && path.startsWith(dir))) {
        this.#schedule(spec.name);
      }
    }
  }

  #schedule(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        this.#reload(name);
      }, this.#debounceMs),
    );
  }

  #reload(name: string): void {
    if (this.#reloading.has(name)) {
      // A change during a reload: load once more when it ends.
      this.#again.add(name);
      return;
    }
    const spec = this.#specs.get(name);
    if (spec === undefined || this.#closed) return;
    const task = this.#loader.load(spec).then(
      () => {
        this.#logger.info(
          `Reloaded skill "${name}" from "${spec.handlerPath}"`,
        );
        this.#emit({ type: "reloaded", name });
      },
      (error) => {
        const cause = error instanceof Error ? error : new Error(String(error));
        this.#logger.warn(
          `Cannot reload skill "${name}", keeping the previous version: ${cause.message}`,
        );
        this.#emit({ type: "reload_failed", name, error: cause });
      },
    ).finally(() => {
      this.#reloading.delete(name);
      if (this.#again.delete(name)) this.#reload(name);
    });
    this.#reloading.set(name, task);
    this.#track(task);
  }

  #emit(event: SkillReloadEvent): void {
    if (this.#queue.length >= MAX_QUEUED_EVENTS) this.#queue.shift();
    this.#queue.push(event);
    this.#wake?.();
  }

  #track(task: Promise<void>): void {
    const tracked = task.finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }
}

/** "mtime:size:ino" of a file, or "" when it cannot be read. */
async function stampOf(path: string): Promise<string> {
  try {
    const info = await Deno.stat(path);
    return `${info.mtime?.getTime()}:${info.size}:${info.ino}`;
  } catch {
    return "";
  }
}

/** Module files below `dir`, skipping dot and dependency directories; at most `max`. */
async function* moduleFiles(dir: string, max: number): AsyncGenerator<string> {
  let count = 0;
  const pending = [dir];
  while (pending.length > 0 && count < max) {
    const current = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(current));
    } catch {
      continue; // removed or unreadable: nothing to poll there
    }
    for (const entry of entries) {
      const path = `${current}${sep}${entry.name}`;
      if (entry.isDirectory) {
        if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name)) {
          pending.push(path);
        }
      } else if (MODULE_EXTENSIONS.has(extname(entry.name))) {
        count++;
        yield path;
        if (count >= max) return;
      }
    }
  }
}
