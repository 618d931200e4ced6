/**
 * Hostile skills against the real sandbox: real Workers, real files, real sockets.
 * Every attack must end as an outcome (never a throw) and leave the node serving.
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
} from "./assert.ts";
import {
  type RunOutcome,
  SkillPermissionError,
  SkillSandbox,
  type SkillSpec,
} from "../src/skills/mod.ts";
import type { JsonObject } from "../src/wire/mod.ts";
import { AssetStore } from "../src/assets/mod.ts";

const RUN = { callerNodeId: "c".repeat(64), jobId: "hostile" };
const SKILLS_MOD = new URL("../src/skills/mod.ts", import.meta.url).href;

/** One handler, many attacks: `input.attack` picks one. */
const ATTACK_TS = `
import type { TaskContext } from "${SKILLS_MOD}";
import { workerData } from "node:worker_threads";
import { helper } from "./helper.ts";

let calls = 0;

export async function handle(input: Record<string, any>, ctx: TaskContext) {
  calls++;
  switch (input.attack) {
    case "none": return { calls, helper: helper() };
    case "read": return { text: await Deno.readTextFile(input.path) };
    case "fetch_file": return { text: await (await fetch(input.url)).text() };
    case "import": return { mod: Object.keys(await import(input.url)) };
    case "write": await Deno.writeTextFile(input.path, "pwned"); return {};
    case "connect": (await Deno.connect({ hostname: input.host, port: input.port })).close(); return {};
    case "fetch": return { body: await (await fetch(input.url, { signal: ctx.signal })).text() };
    case "env": return { home: Deno.env.get("HOME") ?? null };
    case "node_env": return { env: Object.keys((await import("node:process")).default.env) };
    case "run": return { out: String(await new Deno.Command("id").output()) };
    case "node_run": (await import("node:child_process")).execSync("id"); return {};
    case "ffi": Deno.dlopen("libc.so.6", {}); return {};
    case "sys": return { host: Deno.hostname() };
    case "hang": return await new Promise(() => {});
    case "bomb": { const a: unknown[] = []; while (true) a.push(new Array(1e4).fill(calls)); }
    case "huge": return { s: "x".repeat(2 * 1024 * 1024) };
    case "array": return [1, 2] as any;
    case "string": return "text" as any;
    case "null": return null as any;
    case "undefined": return undefined as any;
    case "bigint": return { n: 10n } as any;
    case "function": return { f() {} } as any;
    case "map": return { m: new Map() } as any;
    case "nan": return { n: NaN };
    case "cycle": { const o: any = {}; o.self = o; return o; }
    case "throw": throw new Error("handler exploded");
    case "exit": Deno.exit(7); return {};
    case "async_throw": setTimeout(() => { throw new Error("later"); }, 0); return await new Promise(() => {});
    case "forge_array": workerData.port.postMessage({ type: "result", id: calls, ok: true, json: "[1]" }); return await new Promise(() => {});
    case "forge_huge": workerData.port.postMessage({ type: "result", id: calls, ok: true, json: JSON.stringify({ s: "y".repeat(1_100_000) }) }); return await new Promise(() => {});
    case "forge_junk": workerData.port.postMessage({ type: "nonsense" }); return await new Promise(() => {});
    case "tamper": JSON.stringify = () => "{}"; return { s: "z".repeat(2 * 1024 * 1024) };
  }
  throw new Error("unknown attack " + input.attack);
}
`;

async function withServers<T>(
  fn: (
    ports: { http: number; target: number },
    accepted: () => number,
  ) => Promise<T>,
): Promise<T> {
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("allowed body"),
  );
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const acceptLoop = (async () => {
    for await (const conn of target) {
      accepted++;
      conn.close();
    }
  })();
  try {
    return await fn(
      { http: http.addr.port, target: target.addr.port },
      () => accepted,
    );
  } finally {
    target.close();
    await acceptLoop.catch(() => {});
    await http.shutdown();
  }
}

function isError(outcome: RunOutcome, pattern: RegExp): void {
  assert(outcome.status === "error", JSON.stringify(outcome));
  assertMatch(outcome.detail, pattern);
}

Deno.test("SkillSandbox contains hostile skills and keeps serving", async (t) => {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_hostile_" }),
  );
  const project = `${root}/project`;
  await Deno.mkdir(`${project}/skills`, { recursive: true });
  await Deno.mkdir(`${root}/secret`);
  await Deno.mkdir(`${root}/shared`);
  await Deno.writeTextFile(`${project}/node.db`, "PRIVATE KEY MATERIAL");
  await Deno.writeTextFile(`${project}/node.db-wal`, "PRIVATE KEY MATERIAL");
  await Deno.writeTextFile(`${root}/secret/secret.txt`, "secret");
  await Deno.writeTextFile(`${root}/secret/mod.ts`, "export const x = 1;");
  await Deno.writeTextFile(`${root}/shared/shared.txt`, "shared text");
  await Deno.writeTextFile(`${project}/skills/attack.ts`, ATTACK_TS);
  await Deno.writeTextFile(
    `${project}/skills/helper.ts`,
    'export const helper = () => "relative import ok";',
  );
  await Deno.writeTextFile(`${project}/attack_root.ts`, ATTACK_TS);
  await Deno.writeTextFile(
    `${project}/helper.ts`,
    'export const helper = () => "root";',
  );

  try {
    await withServers(async (ports, accepted) => {
      const spec = (
        name: string,
        extra: Partial<SkillSpec> = {},
      ): SkillSpec => ({
        name,
        handlerPath: `${project}/skills/attack.ts`,
        handlerExport: "handle",
        net: [],
        read: [],
        ...extra,
      });
      await using sandbox = new SkillSandbox({}, {
        protectedPaths: [`${project}/node.db`],
        memoryMb: 64,
        defaultTimeoutMs: 5_000,
      });
      const specs = [
        spec("plain"),
        spec("reader", { read: [`${root}/shared`] }),
        spec("netter", { net: [`127.0.0.1:${ports.http}`] }),
        spec("wrong_port", {
          net: [
            `127.0.0.1:${ports.target + 1}`,
            `localhost:${ports.target + 1}`,
          ],
        }),
        spec("root", {
          handlerPath: `${project}/attack_root.ts`,
          read: [`${project}/helper.ts`],
        }),
      ];
      await Promise.all(specs.map((s) => sandbox.load(s)));
      const attack = (
        skill: string,
        input: JsonObject,
        timeoutMs?: number,
      ) => sandbox.run(skill, input, timeoutMs ? { ...RUN, timeoutMs } : RUN);

      await t.step(
        "a benign call works, with a relative import and a type-only import",
        async () => {
          assertEquals(await attack("plain", { attack: "none" }), {
            status: "ok",
            output: { calls: 1, helper: "relative import ok" },
          });
        },
      );

      await t.step("reading a file outside the declared paths", async () => {
        isError(
          await attack("plain", {
            attack: "read",
            path: `${root}/secret/secret.txt`,
          }),
          /NotCapable/,
        );
        isError(
          await attack("reader", {
            attack: "read",
            path: `${root}/secret/secret.txt`,
          }),
          /NotCapable/,
        );
        isError(
          await attack("plain", {
            attack: "fetch_file",
            url: `file://${root}/secret/secret.txt`,
          }),
          /NotCapable|Requires read/,
        );
        isError(
          await attack("plain", {
            attack: "import",
            url: `file://${root}/secret/mod.ts`,
          }),
          /Requires read|NotCapable/,
        );
      });

      await t.step("a declared read path works", async () => {
        assertEquals(
          await attack("reader", {
            attack: "read",
            path: `${root}/shared/shared.txt`,
          }),
          {
            status: "ok",
            output: { text: "shared text" },
          },
        );
      });

      await t.step(
        "obtaining the node's private key from node.db",
        async () => {
          for (const skill of ["plain", "reader", "netter", "root"]) {
            for (const file of ["node.db", "node.db-wal"]) {
              isError(
                await attack(skill, {
                  attack: "read",
                  path: `${project}/${file}`,
                }),
                /NotCapable/,
              );
            }
          }
          isError(
            await attack("plain", {
              attack: "read",
              path: `${project}/skills/../node.db`,
            }),
            /NotCapable/,
          );
          // The root-level handler only got its own file, not the project directory.
          assertEquals(await attack("root", { attack: "none" }), {
            status: "ok",
            output: { calls: 3, helper: "root" },
          });
          let refused: unknown = null;
          await sandbox.load(spec("greedy", { read: [project] })).catch((e) =>
            refused = e
          );
          assert(refused instanceof SkillPermissionError, String(refused));
        },
      );

      await t.step("writing any file", async () => {
        for (
          const path of [
            `${project}/skills/pwned.txt`,
            `${root}/shared/pwned.txt`,
            `${root}/pwned.txt`,
          ]
        ) {
          isError(
            await attack("plain", { attack: "write", path }),
            /NotCapable/,
          );
          isError(
            await attack("reader", { attack: "write", path }),
            /NotCapable/,
          );
        }
        for (
          const path of [
            `${project}/skills/pwned.txt`,
            `${root}/shared/pwned.txt`,
            `${root}/pwned.txt`,
          ]
        ) {
          assertStrictEquals(
            await Deno.stat(path).then(() => true, () => false),
            false,
          );
        }
      });

      await t.step("network to an undeclared host or port", async () => {
        for (const skill of ["plain", "wrong_port", "netter"]) {
          isError(
            await attack(skill, {
              attack: "connect",
              host: "127.0.0.1",
              port: ports.target,
            }),
            /NotCapable/,
          );
          isError(
            await attack(skill, {
              attack: "fetch",
              url: `http://127.0.0.1:${ports.target}/`,
            }),
            /NotCapable/,
          );
        }
        isError(
          await attack("wrong_port", {
            attack: "fetch",
            url: `http://localhost:${ports.target}/`,
          }),
          /NotCapable/,
        );
        assertStrictEquals(accepted(), 0);
      });

      await t.step("a declared host:port works", async () => {
        assertEquals(
          await attack("netter", {
            attack: "fetch",
            url: `http://127.0.0.1:${ports.http}/`,
          }),
          {
            status: "ok",
            output: { body: "allowed body" },
          },
        );
      });

      await t.step("env, processes, FFI and system info", async () => {
        for (
          const name of ["env", "node_env", "run", "node_run", "ffi", "sys"]
        ) {
          isError(
            await attack("plain", { attack: name }),
            /NotCapable|Requires/,
          );
        }
      });

      await t.step(
        "outputs that are huge, not objects or not serializable",
        async () => {
          isError(
            await attack("plain", { attack: "huge" }),
            /output of \d+ bytes exceeds maximum 1048576/,
          );
          isError(
            await attack("plain", { attack: "tamper" }),
            /exceeds maximum 1048576/,
          );
          for (const name of ["array", "string", "null", "undefined"]) {
            isError(
              await attack("plain", { attack: name }),
              /not a JSON object/,
            );
          }
          for (const name of ["bigint", "function", "map", "nan", "cycle"]) {
            isError(
              await attack("plain", { attack: name }),
              /not JSON-serializable/,
            );
          }
        },
      );

      await t.step("a handler that throws", async () => {
        isError(await attack("plain", { attack: "throw" }), /handler exploded/);
      });

      await t.step("a handler that crashes its Worker", async () => {
        isError(
          await attack("plain", { attack: "exit" }),
          /exited with code 7/,
        );
        isError(
          await attack("plain", { attack: "async_throw" }),
          /crashed its Worker: .*later/s,
        );
        assertEquals((await attack("plain", { attack: "none" })).status, "ok");
      });

      await t.step("forged messages are checked by the host", async () => {
        isError(
          await attack("plain", { attack: "forge_array" }),
          /not a JSON object/,
        );
        isError(
          await attack("plain", { attack: "forge_huge" }),
          /exceeds maximum 1048576/,
        );
        isError(
          await attack("plain", { attack: "forge_junk" }),
          /broke the protocol/,
        );
      });

      await t.step(
        "a handler that never answers times out and its Worker is replaced",
        async () => {
          assertEquals(await attack("plain", { attack: "hang" }, 300), {
            status: "timeout",
          });
          const outcome = await attack("plain", { attack: "none" });
          assert(outcome.status === "ok");
          assertStrictEquals(outcome.output.calls, 1); // a fresh Worker
          assertStrictEquals(sandbox.stats("plain")?.stuck, 0);
        },
      );

      await t.step(
        "a memory bomb hits the heap limit; the node keeps serving",
        async () => {
          const before = Deno.memoryUsage().rss;
          const outcome = await attack("plain", { attack: "bomb" }, 3_000);
          assert(
            outcome.status === "timeout" || outcome.status === "error",
            JSON.stringify(outcome),
          );
          assertEquals(
            (await attack("plain", { attack: "none" })).status,
            "ok",
          );
          assertEquals(
            (await attack("netter", { attack: "none" })).status,
            "ok",
          );
          // The bomb stopped at its 64 MiB heap, not at the machine's memory.
          assert(Deno.memoryUsage().rss - before < 1024 * 1024 * 1024);
        },
      );
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/**
 * Deno 2.9.6 cannot interrupt a Worker stuck in synchronous code (`terminate()` leaves
 * its thread spinning), so this runs in a child process that exits afterwards.
 */
Deno.test("SkillSandbox times out a synchronous infinite loop, replaces the Worker and disables a skill that keeps looping", async () => {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_loop_" }),
  );
  try {
    await Deno.writeTextFile(
      `${dir}/loop.ts`,
      "let n = 0;\nexport function handle(input: { spin?: boolean }) {\n  n++;\n  while (input.spin) {}\n  return { n };\n}\n",
    );
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { SkillSandbox } from "${SKILLS_MOD}";
const sandbox = new SkillSandbox({}, { maxStuckWorkers: 2 });
const spec = (name, file) => ({ name, handlerPath: file, handlerExport: "handle", net: [], read: [] });
await sandbox.load(spec("loop", "${dir}/loop.ts"));
await sandbox.load(spec("echo", "${
        new URL("../skills/echo.ts", import.meta.url).pathname
      }"));
// 400 ms for a spin, 10 s for a call that may wait for a fresh Worker.
const run = (name, input) => sandbox.run(name, input, { callerNodeId: "c".repeat(64), jobId: "j", timeoutMs: input.spin ? 400 : 10_000 });
const results = [];
const started = performance.now();
results.push(await run("loop", { spin: true }));
results.push(Math.round(performance.now() - started));
results.push(await run("echo", { text: "still serving" }));
results.push(await run("loop", { spin: false }));
results.push(await run("loop", { spin: true }));
await new Promise((r) => setTimeout(r, 500)); // the abort grace period
results.push(await run("loop", { spin: false }));
results.push(await run("echo", { text: "still serving" }));
results.push(sandbox.stats("loop"));
console.log(JSON.stringify(results));
await sandbox.close();
`,
    );
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-worker-options", `${dir}/main.ts`],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stdout = new TextDecoder().decode(child.stdout);
    assertStrictEquals(child.code, 0, new TextDecoder().decode(child.stderr));
    const [loop1, ms, echo1, fresh, loop2, disabled, echo2, stats] = JSON.parse(
      stdout,
    );
    assertEquals(loop1, { status: "timeout" });
    assert(ms < 2_000, `a 400 ms timeout took ${ms} ms`);
    assertEquals(echo1, { status: "ok", output: { text: "still serving" } });
    assertEquals(fresh, { status: "ok", output: { n: 1 } });
    assertEquals(loop2, { status: "timeout" });
    assertStrictEquals(disabled.status, "error");
    assertMatch(
      disabled.detail,
      /Skill "loop" is disabled: 2 Workers stayed busy/,
    );
    assertEquals(echo2, { status: "ok", output: { text: "still serving" } });
    assertEquals({ stuck: stats.stuck, disabled: stats.disabled }, {
      stuck: 2,
      disabled: true,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const INBOX_TS = `
let previous = null;
export async function handle(input, ctx) {
  switch (input.op) {
    case "read": {
      previous = input.file;
      return { file: input.file, bytes: [...await Deno.readFile(input.file)] };
    }
    case "previous":
      if (previous === null) throw new Error("not the same Worker");
      return { text: await Deno.readTextFile(previous) };
    case "get": {
      const path = await ctx.getAsset(input.hash);
      return { path, text: await Deno.readTextFile(path) };
    }
    case "echo": return { value: input.file, nested: input.nested };
    case "hang": return await new Promise(() => {});
    case "nested":
      return await ctx.callLocal("inbox", { op: "read", file: "knarr-asset://" + input.hash });
  }
  throw new Error("unknown op " + input.op);
}
`;

async function inboxIds(assetDir: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${assetDir}/.inbox`)) {
      ids.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return ids;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    assert(Date.now() < deadline, "condition not met within 10 s");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("SkillSandbox stages knarr-asset:// inputs into the Worker's own inbox, for one run only", async (t) => {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_inbox_" }),
  );
  const assetDir = `${root}/assets`;
  await Deno.mkdir(`${root}/skills`);
  await Deno.writeTextFile(`${root}/skills/inbox.ts`, INBOX_TS);
  const assets = new AssetStore(assetDir);
  const sandbox = new SkillSandbox({ assets });
  try {
    const bytesA = [0, 255, 1, 2, 3];
    const hashA = await assets.put(new Uint8Array(bytesA));
    const hashB = await assets.put(new TextEncoder().encode("asset b"));
    await sandbox.load({
      name: "inbox",
      handlerPath: `${root}/skills/inbox.ts`,
      handlerExport: "handle",
      net: [],
      read: [],
    });
    let firstInbox = "";

    await t.step(
      "a ref arrives as a path in the inbox, with the exact bytes",
      async () => {
        const outcome = await sandbox.run("inbox", {
          op: "read",
          file: `knarr-asset://${hashA}`,
        }, RUN);
        assert(outcome.status === "ok", JSON.stringify(outcome));
        const file = String(outcome.output.file);
        assertMatch(file, new RegExp(`^${assetDir}/\\.inbox/[^/]+/${hashA}$`));
        assertEquals(outcome.output.bytes, bytesA);
        firstInbox = file.slice(0, -hashA.length - 1);
        assertEquals(await inboxIds(assetDir), [firstInbox.split("/").at(-1)]);
        assertEquals([...Deno.readDirSync(firstInbox)], []);
      },
    );

    await t.step(
      "a later run on the same warm Worker cannot read it",
      async () => {
        isError(
          await sandbox.run("inbox", { op: "previous" }, RUN),
          /NotFound/,
        );
      },
    );

    await t.step("the handler cannot read the store itself", async (t) => {
      for (const hash of [hashA, hashB]) {
        await t.step(hash.slice(0, 8), async () => {
          isError(
            await sandbox.run("inbox", {
              op: "read",
              file: assets.pathOf(hash),
            }, RUN),
            /NotCapable/,
          );
        });
      }
      isError(
        await sandbox.run("inbox", {
          op: "read",
          file: `${assetDir}/.inbox`,
        }, RUN),
        /NotCapable/,
      );
      // Deno checks the normalized path, so ".." cannot climb out of the grant.
      isError(
        await sandbox.run("inbox", {
          op: "read",
          file: `${firstInbox}/../../${hashB}`,
        }, RUN),
        /NotCapable/,
      );
    });

    await t.step("ctx.getAsset() returns a readable inbox path", async () => {
      const outcome = await sandbox.run(
        "inbox",
        { op: "get", hash: hashB },
        RUN,
      );
      assert(outcome.status === "ok", JSON.stringify(outcome));
      assertStrictEquals(outcome.output.path, `${firstInbox}/${hashB}`);
      assertStrictEquals(outcome.output.text, "asset b");
      assertEquals([...Deno.readDirSync(firstInbox)], []);
    });

    await t.step(
      "unknown, malformed and nested refs stay literal",
      async () => {
        const unknown = `knarr-asset://${"0".repeat(64)}`;
        assertEquals(
          await sandbox.run("inbox", { op: "echo", file: unknown }, RUN),
          { status: "ok", output: { value: unknown } },
        );
        const upper = `knarr-asset://${hashA.toUpperCase()}`;
        const nested = { file: `knarr-asset://${hashA}` };
        assertEquals(
          await sandbox.run("inbox", { op: "echo", file: upper, nested }, RUN),
          { status: "ok", output: { value: upper, nested } },
        );
      },
    );

    await t.step(
      "a nested callLocal() run stages into its own Worker's inbox",
      async () => {
        const outcome = await sandbox.run("inbox", {
          op: "nested",
          hash: hashA,
        }, RUN);
        assert(outcome.status === "ok", JSON.stringify(outcome));
        const file = String(outcome.output.file);
        assertMatch(file, new RegExp(`^${assetDir}/\\.inbox/[^/]+/${hashA}$`));
        assert(!file.startsWith(firstInbox + "/"), file);
        assertEquals(outcome.output.bytes, bytesA);
        assertStrictEquals((await inboxIds(assetDir)).length, 2);
      },
    );

    await t.step("a timed-out Worker's inbox is removed with it", async () => {
      const outcome = await sandbox.run("inbox", {
        op: "hang",
        file: `knarr-asset://${hashA}`,
      }, { ...RUN, timeoutMs: 300 });
      assertEquals(outcome, { status: "timeout" });
      const old = firstInbox.split("/").at(-1);
      await until(async () => {
        const ids = await inboxIds(assetDir);
        const stats = sandbox.stats("inbox");
        return old !== undefined && !ids.includes(old) && stats?.busy === 0 &&
          stats.starting === 0 && ids.length === stats.idle;
      });
    });

    await t.step("close() removes every inbox", async () => {
      await sandbox.close();
      assertEquals(await inboxIds(assetDir), []);
    });
  } finally {
    await sandbox.close();
    await Deno.remove(root, { recursive: true });
  }
});
