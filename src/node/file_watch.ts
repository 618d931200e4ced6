/** Watching one file (knarr.toml) for edits, debounced. */

/**
 * What identifies one version of a file on disk, for change detection:
 * "mtime:size:inode", or "" when the file does not exist or cannot be read.
 */
export type FileStamp = string;

/** The stamp of `path` now. */
export async function fileStamp(path: string): Promise<FileStamp> {
  try {
    return stampOf(await Deno.stat(path));
  } catch {
    return "";
  }
}

function stampSync(path: string): FileStamp {
  try {
    return stampOf(Deno.statSync(path));
  } catch {
    return "";
  }
}

function stampOf(info: Deno.FileInfo): FileStamp {
  return `${info.mtime?.getTime()}:${info.size}:${info.ino}`;
}

/** Options for {@linkcode watchFile}. */
export interface WatchFileOptions {
  signal: AbortSignal;
  /** Quiet time after the last change before `onChange`, in ms. Default 200. */
  debounceMs?: number;
  /**
   * How often the file is also checked with `stat`, in ms. Default 1000. This catches
   * edits that file-system events miss (network and container mounts) and edits made
   * between loading the file and starting the watch.
   */
  pollMs?: number;
  /**
   * The stamp of the version the caller loaded (take it right after reading the file).
   * A file that differs from it already counts as changed. Default: the stamp at start.
   */
  since?: FileStamp;
}

/**
 * Calls `onChange` after edits of `path` settle for `debounceMs`, until `signal` aborts.
 * Calls never overlap; an edit made while `onChange` runs causes one more call. The
 * watch is in place when this function returns its promise (it starts synchronously).
 */
export function watchFile(
  path: string,
  onChange: () => Promise<void>,
  options: WatchFileOptions,
): Promise<void> {
  const { signal } = options;
  if (signal.aborted) return Promise.resolve();
  const debounceMs = options.debounceMs ?? 200;
  // Watch the directory: editors often replace the file (rename), which ends a file watch.
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const name = path.slice(path.lastIndexOf("/") + 1);
  let watcher: Deno.FsWatcher | null = null;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    // No change events here (or the directory is gone): polling alone still works.
  }
  let seen = options.since ?? stampSync(path);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      running = running.then(() => {
        if (signal.aborted) return;
        // Stamp before reading, so an edit during the reload is seen as a change.
        seen = stampSync(path);
        return onChange();
      }).catch(() => {});
    }, debounceMs);
  };
  let polling: Promise<void> | null = null;
  const poll = async () => {
    const before = seen;
    const now = await fileStamp(path);
    // A reload that stamped the file meanwhile has seen this version already.
    if (!signal.aborted && seen === before && now !== before) {
      seen = now;
      schedule();
    }
  };
  const interval = setInterval(() => {
    polling ??= poll().finally(() => polling = null);
  }, options.pollMs ?? 1_000);
  const stopped = Promise.withResolvers<void>();
  const stop = () => {
    watcher?.close();
    stopped.resolve();
  };
  signal.addEventListener("abort", stop, { once: true });
  const events = (async () => {
    if (watcher === null) return;
    for await (const event of watcher) {
      if (event.paths.some((p) => p.endsWith(`/${name}`))) schedule();
    }
  })().catch(() => {});
  return (async () => {
    try {
      await stopped.promise;
      await events;
    } finally {
      clearInterval(interval);
      await polling;
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
      await running;
    }
  })();
}
