import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { SkillSandbox } from "./skill_sandbox.ts";
import { type SkillReloadEvent, SkillWatcher } from "./skill_watcher.ts";
import type { SkillSpec } from "./types.ts";

const RUN = { callerNodeId: "c".repeat(64), jobId: "job" };

function version(n: number): string {
  return `import { tag } from "./tag.ts";\nexport const handle = () => ({ version: ${n}, tag });\n`;
}

/** The skill "hot" with its handler at `<dir>/hot.ts`. */
function hotSpec(dir: string): SkillSpec {
  return {
    name: "hot",
    handlerPath: `${dir}/hot.ts`,
    handlerExport: "handle",
    net: [],
    read: [],
  };
}

/** Reads events with a timeout, without losing the one a timed-out read was waiting for. */
function reader(events: AsyncGenerator<SkillReloadEvent>) {
  let pending: Promise<IteratorResult<SkillReloadEvent>> | null = null;
  return async (ms: number): Promise<SkillReloadEvent | null> => {
    pending ??= events.next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) =>
      timer = setTimeout(() => r(null), ms)
    );
    const result = await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (result === null) return null;
    pending = null;
    return result.done ? null : result.value;
  };
}

Deno.test("SkillWatcher reloads a skill when its files change and keeps it when an edit breaks it", async (t) => {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_watch_" }),
  );
  try {
    await Deno.writeTextFile(`${dir}/hot.ts`, version(1));
    await Deno.writeTextFile(`${dir}/tag.ts`, 'export const tag = "a";\n');
    await Deno.writeTextFile(`${dir}/other.txt`, "data");
    const spec = hotSpec(dir);
    await using sandbox = new SkillSandbox();
    await sandbox.load(spec);
    await using watcher = new SkillWatcher({ loader: sandbox }, {
      debounceMs: 100,
    });
    watcher.watch([spec]);
    const next = reader(watcher.events());

    await t.step("a burst of edits gives one reload", async () => {
      for (const n of [2, 3, 4]) {
        await Deno.writeTextFile(`${dir}/hot.ts`, version(n));
      }
      assertEquals(await next(5_000), {
        type: "reloaded",
        name: "hot",
      });
      assertEquals(await sandbox.run("hot", {}, RUN), {
        status: "ok",
        output: { version: 4, tag: "a" },
      });
      assertStrictEquals(await next(400), null);
    });

    await t.step(
      "an edit of a module beside the handler reloads it",
      async () => {
        await Deno.writeTextFile(`${dir}/tag.ts`, 'export const tag = "b";\n');
        assertEquals(await next(5_000), {
          type: "reloaded",
          name: "hot",
        });
        assertEquals(await sandbox.run("hot", {}, RUN), {
          status: "ok",
          output: { version: 4, tag: "b" },
        });
      },
    );

    await t.step("a non-module file does not", async () => {
      await Deno.writeTextFile(`${dir}/other.txt`, "changed");
      assertStrictEquals(await next(400), null);
    });

    await t.step("a broken edit keeps the previous version", async () => {
      await Deno.writeTextFile(`${dir}/hot.ts`, "export const handle = (");
      const event = await next(5_000);
      assert(event?.type === "reload_failed", JSON.stringify(event));
      assertStrictEquals(event.name, "hot");
      assertMatch(event.error.message, /^Cannot load skill "hot"/);
      assertEquals(await sandbox.run("hot", {}, RUN), {
        status: "ok",
        output: { version: 4, tag: "b" },
      });
    });

    await watcher.close();
    assertStrictEquals(await next(1_000), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SkillWatcher polling alone sees edits, replaced files and removed modules", async () => {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_poll_" }),
  );
  try {
    await Deno.mkdir(`${dir}/lib`);
    await Deno.writeTextFile(
      `${dir}/hot.ts`,
      'import { tag } from "./lib/tag.ts";\nexport const handle = () => ({ version: 1, tag });\n',
    );
    await Deno.writeTextFile(`${dir}/lib/tag.ts`, 'export const tag = "a";\n');
    const spec = hotSpec(dir);
    await using sandbox = new SkillSandbox();
    await sandbox.load(spec);
    await using watcher = new SkillWatcher({ loader: sandbox }, {
      debounceMs: 50,
      pollMs: 100,
      fileEvents: false,
    });
    watcher.watch([spec]);
    const next = reader(watcher.events());
    // Nothing changed: the first pass is only the baseline.
    assertStrictEquals(await next(400), null);

    // A module in a subdirectory, edited in place.
    await Deno.writeTextFile(
      `${dir}/lib/tag.ts`,
      'export const tag = "bb";\n',
    );
    assertEquals(await next(5_000), { type: "reloaded", name: "hot" });
    assertEquals(await sandbox.run("hot", {}, RUN), {
      status: "ok",
      output: { version: 1, tag: "bb" },
    });

    // The handler, replaced the way editors save (write elsewhere, rename over).
    await Deno.writeTextFile(
      `${dir}/hot.ts.tmp`,
      'import { tag } from "./lib/tag.ts";\nexport const handle = () => ({ version: 2, tag });\n',
    );
    await Deno.rename(`${dir}/hot.ts.tmp`, `${dir}/hot.ts`);
    assertEquals(await next(5_000), { type: "reloaded", name: "hot" });
    assertEquals(await sandbox.run("hot", {}, RUN), {
      status: "ok",
      output: { version: 2, tag: "bb" },
    });

    // A new file is not an edit of anything loaded.
    await Deno.writeTextFile(`${dir}/lib/unused.ts`, "export const x = 1;\n");
    assertStrictEquals(await next(400), null);

    // A removed module breaks the skill: the previous version keeps running.
    await Deno.remove(`${dir}/lib/tag.ts`);
    const event = await next(5_000);
    assert(event?.type === "reload_failed", JSON.stringify(event));
    assertEquals(await sandbox.run("hot", {}, RUN), {
      status: "ok",
      output: { version: 2, tag: "bb" },
    });
    await watcher.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
