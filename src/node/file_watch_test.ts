import { assert, assertEquals } from "../../tests/assert.ts";
import { join } from "node:path";
import { fileStamp, watchFile } from "./file_watch.ts";

async function until(check: () => boolean, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

Deno.test("watchFile calls back once per burst of edits, and for a replaced file", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "knarr.toml");
  Deno.writeTextFileSync(file, "a = 1\n");
  const abort = new AbortController();
  let calls = 0;
  const done = watchFile(file, () => {
    calls++;
    return Promise.resolve();
  }, { signal: abort.signal, debounceMs: 100, pollMs: 60_000 });
  try {
    for (let i = 2; i < 5; i++) Deno.writeTextFileSync(file, `a = ${i}\n`);
    assert(await until(() => calls === 1), "no call after a burst of edits");
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(calls, 1);
    // Editors save by writing a new file and renaming it over the old one.
    Deno.writeTextFileSync(join(dir, "knarr.toml.tmp"), "a = 9\n");
    Deno.renameSync(join(dir, "knarr.toml.tmp"), file);
    assert(await until(() => calls === 2), "no call after a rename");
    // Other files in the directory are not the watched file.
    Deno.writeTextFileSync(join(dir, "other.toml"), "b = 1\n");
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(calls, 2);
  } finally {
    abort.abort();
    await done;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchFile sees an edit made between loading the file and starting the watch", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "knarr.toml");
  Deno.writeTextFileSync(file, "a = 1\n");
  const loaded = await fileStamp(file);
  // The edit no change event will report: it happens before the watch exists.
  await new Promise((r) => setTimeout(r, 20));
  Deno.writeTextFileSync(file, "a = 22\n");
  const abort = new AbortController();
  let calls = 0;
  const done = watchFile(file, () => {
    calls++;
    return Promise.resolve();
  }, { signal: abort.signal, debounceMs: 50, pollMs: 100, since: loaded });
  try {
    assert(await until(() => calls === 1), "the earlier edit was missed");
    await new Promise((r) => setTimeout(r, 400));
    assertEquals(calls, 1, "an unchanged file is not reloaded again");
  } finally {
    abort.abort();
    await done;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watchFile polls when file-system events are unavailable, and ends on abort", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "knarr.toml");
  Deno.writeTextFileSync(file, "a = 1\n");
  const abort = new AbortController();
  let calls = 0;
  // A missing directory cannot be watched with events; polling still sees the file appear.
  const missing = join(dir, "later", "knarr.toml");
  const done = watchFile(missing, () => {
    calls++;
    return Promise.resolve();
  }, { signal: abort.signal, debounceMs: 20, pollMs: 50 });
  try {
    Deno.mkdirSync(join(dir, "later"));
    Deno.writeTextFileSync(missing, "a = 2\n");
    assert(
      await until(() => calls === 1),
      `polling missed the new file: ${calls}`,
    );
  } finally {
    abort.abort();
    await done;
    await Deno.remove(dir, { recursive: true });
  }
  const before = calls;
  await new Promise((r) => setTimeout(r, 150));
  assertEquals(calls, before, "called after abort");
});
