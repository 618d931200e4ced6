/** Watching one file (knarr.toml) for edits, debounced. */

/** Calls `onChange` after edits of `path` settle for `debounceMs`, until `signal` aborts. */
export async function watchFile(
  path: string,
  onChange: () => Promise<void>,
  options: { signal: AbortSignal; debounceMs?: number },
): Promise<void> {
  if (options.signal.aborted) return;
  // Watch the directory: editors often replace the file (rename), which ends a file watch.
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const name = path.slice(path.lastIndexOf("/") + 1);
  const watcher = Deno.watchFs(dir, { recursive: false });
  const stop = () => watcher.close();
  options.signal.addEventListener("abort", stop, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  try {
    for await (const event of watcher) {
      if (!event.paths.some((p) => p.endsWith(`/${name}`))) continue;
      clearTimeout(timer);
      timer = setTimeout(() => {
        running = running.then(onChange).catch(() => {});
      }, options.debounceMs ?? 200);
    }
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", stop);
    await running;
  }
}
