import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { AssetStore } from "../assets/mod.ts";
import {
  SkillLoadError,
  SkillPermissionError,
  UnknownSkillError,
} from "./errors.ts";
import { SkillSandbox } from "./skill_sandbox.ts";
import type { RunOptions, RunOutcome, SkillSpec } from "./types.ts";

const CALLER = "c".repeat(64);
const RUN: RunOptions = { callerNodeId: CALLER, jobId: "job-1" };

/** Writes `<name>.ts` skill files into a fresh temp dir; `spec()` names one of them. */
async function skillDir(files: Record<string, string>) {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_skills_" }),
  );
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}.ts`, text);
  }
  return {
    dir,
    spec: (name: string, extra: Partial<SkillSpec> = {}): SkillSpec => ({
      name,
      handlerPath: `${dir}/${name}.ts`,
      handlerExport: "handle",
      net: [],
      read: [],
      ...extra,
    }),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("SkillSandbox.run() runs a handler in a Worker and returns its output", async () => {
  await using sandbox = new SkillSandbox();
  await sandbox.load({
    name: "echo",
    handlerPath: new URL("../../skills/echo.ts", import.meta.url).pathname,
    handlerExport: "handle",
    net: [],
    read: [],
  });
  assertEquals(sandbox.names(), ["echo"]);
  assertEquals(await sandbox.run("echo", { text: "hi" }, RUN), {
    status: "ok",
    output: { text: "hi" },
  });
});

Deno.test("SkillSandbox.run() throws UnknownSkillError for a skill that is not loaded", async () => {
  await using sandbox = new SkillSandbox();
  await assertRejects(() => sandbox.run("nope", {}, RUN), UnknownSkillError);
  assertStrictEquals(await sandbox.unload("nope"), false);
});

Deno.test("SkillSandbox.load() fails with SkillLoadError when the module cannot be used", async (t) => {
  await using skills = await skillDir({
    syntax: "export function handle( {",
    no_export: "export function other() { return {}; }",
    not_function: "export const handle = 42;",
    top_throw: 'throw new Error("refusing to load");',
    missing_import: 'import "./nowhere.ts";\nexport const handle = () => ({});',
  });
  await using sandbox = new SkillSandbox();
  const cases: [string, RegExp][] = [
    ["missing", /missing\.ts/],
    ["syntax", /syntax\.ts/],
    ["no_export", /export "handle" not found/],
    ["not_function", /export "handle" is a number, not a function/],
    ["top_throw", /refusing to load/],
    ["missing_import", /nowhere\.ts/],
  ];
  // Loads run at once (a Worker start is mostly waiting); checks run in order.
  const errors = await Promise.all(
    cases.map(([name]) =>
      sandbox.load(skills.spec(name)).then(() => null, (e: Error) => e)
    ),
  );
  for (const [i, [name, pattern]] of cases.entries()) {
    await t.step(name, () => {
      const error = errors[i];
      assert(error instanceof SkillLoadError, String(error));
      assertMatch(error.message, /^Cannot load skill "/);
      assertMatch(error.message, pattern);
    });
  }
  assertEquals(sandbox.names(), []);
});

Deno.test("SkillSandbox.load() keeps the previous version when the new one fails", async () => {
  await using skills = await skillDir({
    v: "export const handle = () => ({ version: 1 });",
  });
  await using sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("v"));
  await Deno.writeTextFile(`${skills.dir}/v.ts`, "export const handle = (");
  await assertRejects(() => sandbox.load(skills.spec("v")), SkillLoadError);
  assertEquals(await sandbox.run("v", {}, RUN), {
    status: "ok",
    output: { version: 1 },
  });
  await Deno.writeTextFile(
    `${skills.dir}/v.ts`,
    "export const handle = () => ({ version: 2 });",
  );
  await sandbox.load(skills.spec("v"));
  assertEquals(await sandbox.run("v", {}, RUN), {
    status: "ok",
    output: { version: 2 },
  });
});

Deno.test("SkillSandbox.load() refuses read grants that expose a protected path", async () => {
  await using skills = await skillDir({
    s: "export const handle = () => ({});",
  });
  await Deno.writeTextFile(`${skills.dir}/node.db`, "secret");
  await using sandbox = new SkillSandbox({}, {
    protectedPaths: [`${skills.dir}/node.db`],
  });
  await assertRejects(
    () => sandbox.load(skills.spec("s", { read: [skills.dir] })),
    SkillPermissionError,
  );
  // The handler's own directory holds the database: only the file is granted.
  await sandbox.load(skills.spec("s"));
  assertEquals(await sandbox.run("s", {}, RUN), { status: "ok", output: {} });
});

Deno.test("SkillSandbox reuses a warm Worker across runs", async () => {
  await using skills = await skillDir({
    counter: "let n = 0;\nexport const handle = () => ({ n: ++n });",
  });
  await using sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("counter"));
  for (const n of [1, 2, 3]) {
    assertEquals(await sandbox.run("counter", {}, RUN), {
      status: "ok",
      output: { n },
    });
  }
});

Deno.test("SkillSandbox passes the task context and the input to the handler", async () => {
  await using skills = await skillDir({
    ctx: `export function handle(input, ctx) {
      return {
        input,
        callerNodeId: ctx.callerNodeId,
        jobId: ctx.jobId,
        signal: ctx.signal instanceof AbortSignal && !ctx.signal.aborted,
      };
    }`,
  });
  await using sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("ctx"));
  const input = { a: 1, b: [true, null, "x"], c: { d: 1.5 } };
  assertEquals(
    await sandbox.run("ctx", input, { callerNodeId: CALLER, jobId: "j-7" }),
    {
      status: "ok",
      output: { input, callerNodeId: CALLER, jobId: "j-7", signal: true },
    },
  );
});

Deno.test("SkillSandbox bounds the runs of a skill to maxConcurrency", async () => {
  await using skills = await skillDir({
    slow: `export async function handle() {
      await new Promise((r) => setTimeout(r, 400));
      return {};
    }`,
  });
  await using sandbox = new SkillSandbox({}, { maxConcurrency: 2 });
  await sandbox.load(skills.spec("slow"));
  let most = 0;
  let queued = 0;
  const timer = setInterval(() => {
    const s = sandbox.stats("slow")!;
    most = Math.max(most, s.busy + s.starting + s.idle);
    queued = Math.max(queued, s.queued);
  }, 10);
  try {
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map(() => sandbox.run("slow", {}, RUN)),
    );
    assert(outcomes.every((o) => o.status === "ok"));
  } finally {
    clearInterval(timer);
  }
  assertStrictEquals(most, 2);
  assertStrictEquals(queued, 2);
});

Deno.test("SkillSandbox.run() rejects with the signal's reason and replaces the Worker", async () => {
  await using skills = await skillDir({
    wait: `export function handle(input) {
      return input.hang ? new Promise(() => {}) : { done: true };
    }`,
  });
  await using sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("wait"));
  const controller = new AbortController();
  const reason = new Error("caller went away");
  const run = sandbox.run("wait", { hang: true }, {
    ...RUN,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(reason), 100);
  await assertRejects(() => run, (e) => e === reason);
  assertEquals(await sandbox.run("wait", {}, RUN), {
    status: "ok",
    output: { done: true },
  });
});

Deno.test("SkillSandbox ctx.callLocal() runs another skill and limits the depth", async () => {
  await using skills = await skillDir({
    upper: `export async function handle(input, ctx) {
      const out = await ctx.callLocal("lower", { text: input.text });
      return { text: out.text.toUpperCase(), depthOk: true };
    }`,
    lower: "export const handle = (input) => ({ text: String(input.text) });",
    loop: `export async function handle(input, ctx) {
      return await ctx.callLocal("loop", {});
    }`,
    fails: `export async function handle(input, ctx) {
      try {
        await ctx.callLocal("missing", {});
      } catch (e) {
        return { error: e.message };
      }
    }`,
  });
  const calls: string[] = [];
  await using sandbox: SkillSandbox = new SkillSandbox({
    callLocal: (name, input, ctx): Promise<RunOutcome> => {
      calls.push(`${name}@${ctx.depth}`);
      return sandbox.run(name, input, ctx);
    },
  }, { maxCallDepth: 3 });
  await Promise.all(
    ["upper", "lower", "loop", "fails"].map((n) =>
      sandbox.load(skills.spec(n))
    ),
  );
  assertEquals(await sandbox.run("upper", { text: "abc" }, RUN), {
    status: "ok",
    output: { text: "ABC", depthOk: true },
  });
  assertEquals(calls, ["lower@1"]);

  calls.length = 0;
  const loop = await sandbox.run("loop", {}, { ...RUN, timeoutMs: 10_000 });
  assert(loop.status === "error");
  assertMatch(loop.detail, /call depth 4 exceeds maximum 3/);
  assertEquals(calls, ["loop@1", "loop@2", "loop@3"]);

  const fails = await sandbox.run("fails", {}, RUN);
  assert(fails.status === "ok");
  assertMatch(String(fails.output.error), /no such skill is loaded/);
});

Deno.test("SkillSandbox ctx.storeAsset() stores in the asset store and ctx.getAsset() stages into the inbox", async () => {
  await using skills = await skillDir({
    assets: `export async function handle(input, ctx) {
      const hash = await ctx.storeAsset(new TextEncoder().encode(input.text));
      const path = await ctx.getAsset(hash);
      const missing = await ctx.getAsset("0".repeat(64));
      let invalid = "";
      try { await ctx.getAsset("../../etc/passwd"); } catch (e) { invalid = e.message; }
      return { hash, path, text: await Deno.readTextFile(path), missing, invalid };
    }`,
  });
  const assetDir = `${skills.dir}/assets`;
  await using sandbox = new SkillSandbox({ assets: new AssetStore(assetDir) });
  await sandbox.load(skills.spec("assets"));
  const outcome = await sandbox.run("assets", { text: "stored" }, RUN);
  assert(outcome.status === "ok", JSON.stringify(outcome));
  const { hash, path, text, missing, invalid } = outcome.output;
  assertMatch(String(path), new RegExp(`^${assetDir}/\\.inbox/[^/]+/${hash}$`));
  assertStrictEquals(text, "stored");
  assertStrictEquals(missing, null);
  assertMatch(String(invalid), /not a 64-character lowercase hex/);
  assertStrictEquals(
    await Deno.readTextFile(`${assetDir}/${hash}`),
    "stored",
  );
});

Deno.test("SkillSandbox.unload() lets a run finish, then deregisters the skill", async () => {
  await using skills = await skillDir({
    slow: `export async function handle() {
      await new Promise((r) => setTimeout(r, 200));
      return { finished: true };
    }`,
  });
  await using sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("slow"));
  const run = sandbox.run("slow", {}, RUN);
  assertStrictEquals(await sandbox.unload("slow"), true);
  assertEquals(await run, { status: "ok", output: { finished: true } });
  await assertRejects(() => sandbox.run("slow", {}, RUN), UnknownSkillError);
});

Deno.test("SkillSandbox.close() ends runs in progress with an error", async () => {
  await using skills = await skillDir({
    hang: "export const handle = () => new Promise(() => {});",
  });
  const sandbox = new SkillSandbox();
  await sandbox.load(skills.spec("hang"));
  const run = sandbox.run("hang", {}, RUN);
  await new Promise((r) => setTimeout(r, 50));
  await sandbox.close();
  const outcome = await run;
  assert(outcome.status === "error");
  assertMatch(outcome.detail, /unloaded/);
  await sandbox.close();
});
