import { assert, assertEquals } from "../../tests/assert.ts";
import { join } from "node:path";
import { fileStamp, watchFile, type WatchFileOptions } from "./file_watch.ts";

async function until(check: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Counts `watchFile` calls on `path` until `stop()`. */
function countCalls(
  path: string,
  options: Omit<WatchFileOptions, "signal">,
): { calls: () => number; stop: () => Promise<void> } {
  const abort = new AbortController();
  let calls = 0;
  const done = watchFile(path, () => {
    calls++;
    return Promise.resolve();
  }, { ...options, signal: abort.signal });
  return {
    calls: () => calls,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** A temporary directory holding knarr.toml, removed afterwards. */
async function withFile(
  fn: (dir: string, file: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "knarr.toml");
  Deno.writeTextFileSync(file, "a = 1\n");
  try {
    await fn(dir, file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("watchFile calls back once per burst of edits, and for a replaced file", async () => {
  await withFile(async (dir, file) => {
    const w = countCalls(file, { debounceMs: 100, pollMs: 60_000 });
    try {
      for (let i = 2; i < 5; i++) Deno.writeTextFileSync(file, `a = ${i}\n`);
      assert(await until(() => w.calls() === 1), "no call after a burst");
      await sleep(300);
      assertEquals(w.calls(), 1);
      // Editors save by writing a new file and renaming it over the old one.
      Deno.writeTextFileSync(join(dir, "knarr.toml.tmp"), "a = 9\n");
      Deno.renameSync(join(dir, "knarr.toml.tmp"), file);
      assert(await until(() => w.calls() === 2), "no call after a rename");
      // Other files in the directory are not the watched file.
      Deno.writeTextFileSync(join(dir, "other.toml"), "b = 1\n");
      await sleep(300);
      assertEquals(w.calls(), 2);
    } finally {
      await w.stop();
    }
  });
});

Deno.test("watchFile sees an edit made between loading the file and starting the watch", async () => {
  await withFile(async (_dir, file) => {
    const loaded = await fileStamp(file);
    // The edit no change event will report: it happens before the watch exists.
    await sleep(20);
    Deno.writeTextFileSync(file, "a = 22\n");
    const w = countCalls(file, { debounceMs: 50, pollMs: 100, since: loaded });
    try {
      assert(await until(() => w.calls() === 1), "the earlier edit was missed");
      await sleep(400);
      assertEquals(w.calls(), 1, "an unchanged file is not reloaded again");
    } finally {
      await w.stop();
    }
  });
});

Deno.test("watchFile polls when file-system events are unavailable, and ends on abort", async () => {
  await withFile(async (dir) => {
    // A missing directory cannot be watched with events; polling sees the file appear.
    const missing = join(dir, "later", "knarr.toml");
    const w = countCalls(missing, { debounceMs: 20, pollMs: 50 });
    try {
      Deno.mkdirSync(join(dir, "later"));
      Deno.writeTextFileSync(missing, "a = 2\n");
      assert(await until(() => w.calls() === 1), "polling missed the file");
    } finally {
      await w.stop();
    }
    Deno.writeTextFileSync(missing, "a = 3\n");
    await sleep(150);
    assertEquals(w.calls(), 1, "called after abort");
  });
});
