import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr, serve } from "./cli_helpers.ts";

async function project(): Promise<string> {
  const cwd = Deno.makeTempDirSync({ prefix: "knarr-serve-" });
  const r = await knarr(["init", "p"], { cwd });
  assertEquals(r.code, 0);
  return join(cwd, "p");
}

Deno.test("knarr serve prints the seed's lines, serves knarr query, and stops cleanly on SIGTERM", async () => {
  const dir = await project();
  const node = await serve(dir);
  let stopped = false;
  try {
    assertMatch(node.lines[0]!, /^Node ID: [0-9a-f]{64}$/);
    const nodeId = node.lines[0]!.slice("Node ID: ".length);
    const sidecarPort = Number(
      /^Sidecar: https:\/\/127\.0\.0\.1:(\d+)$/.exec(node.lines[2]!)?.[1],
    );
    assert(sidecarPort > 0, "beside --port 0 the sidecar takes any free port");
    const cockpit =
      /^Cockpit: (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})$/
        .exec(node.lines[3]!)?.[1];
    assert(cockpit, "beside --port 0 the cockpit takes any free port");
    assertEquals(node.lines.slice(1), [
      `Listening: 127.0.0.1:${node.port}`,
      `Sidecar: https://127.0.0.1:${sidecarPort}`,
      `Cockpit: ${cockpit}`,
      "Advertising: 127.0.0.1",
      "Loaded 1 skills from config",
    ]);
    const bootstrap = `127.0.0.1:${node.port}`;

    const q = await knarr([
      "query",
      "--bootstrap",
      bootstrap,
      "--name",
      "echo",
    ]);
    assertEquals(q.code, 0);
    const host = `127.0.0.1:${node.port}`;
    const width = Math.max("HOST".length, host.length);
    assertEquals(
      q.stdout,
      [
        `SKILL  PROVIDER             ${"HOST".padEnd(width)}  DESCRIPTION`,
        `echo   ${nodeId.slice(0, 16)}...  ${
          host.padEnd(width)
        }  Echoes input text back`,
        "",
      ].join("\n"),
    );

    const j = await knarr([
      "query",
      "--bootstrap",
      bootstrap,
      "--tag",
      "example",
      "--json",
    ]);
    assertEquals(j.code, 0);
    assertEquals(JSON.parse(j.stdout), [{
      node_id: nodeId,
      host: "127.0.0.1",
      port: node.port,
      skill_sheet: {
        name: "echo",
        version: "1.0.0",
        description: "Echoes input text back",
        tags: ["example"],
        input_schema: { text: "string" },
        output_schema: { text: "string" },
        uri: "knarr:///tools/dev/echo@1.0",
      },
      sidecar_port: sidecarPort,
    }]);

    const none = await knarr([
      "query",
      "--bootstrap",
      bootstrap,
      "--name",
      "translate",
    ]);
    assertEquals([none.code, none.stdout], [0, "No skills found.\n"]);

    const demand = await knarr(["demand", "--storage", join(dir, "node.db")]);
    assertEquals(demand.code, 0);
    const rows = demand.stdout.trimEnd().split("\n");
    assertMatch(rows[0]!, /^QUERY\s+TYPE\s+COUNT\s+LAST QUERIED$/);
    assertMatch(
      rows[1]!,
      /^translate\s+name\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );

    const { code, stderr } = await node.stop();
    stopped = true;
    assertEquals(code, 0);
    assert(!stderr.includes("    at "), stderr);
    // The database was flushed and reopens with the same identity.
    const info = await knarr(["info"], { cwd: dir });
    assertEquals(info.stdout.split("\n")[0], `Node ID: ${nodeId}`);
  } finally {
    if (!stopped) await node.stop();
  }
});

Deno.test("knarr query reports usage mistakes and an unreachable bootstrap", async (t) => {
  await t.step("missing --bootstrap", async () => {
    const r = await knarr(["query", "--name", "echo"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /^error: Missing --bootstrap host:port/);
  });
  await t.step("both --name and --tag", async () => {
    const r = await knarr([
      "query",
      "--bootstrap",
      "127.0.0.1:1",
      "--name",
      "a",
      "--tag",
      "b",
    ]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /^error: Give exactly one of --name NAME or --tag TAG/,
    );
  });
  await t.step("bad --timeout", async () => {
    const r = await knarr([
      "query",
      "--bootstrap",
      "127.0.0.1:1",
      "--name",
      "a",
      "--timeout",
      "soon",
    ]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /^error: Invalid --timeout "soon": must be a positive number of seconds/,
    );
  });
  await t.step("unreachable bootstrap", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const r = await knarr([
      "query",
      "--bootstrap",
      `127.0.0.1:${port}`,
      "--name",
      "echo",
    ]);
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr,
      `error: Cannot reach bootstrap "127.0.0.1:${port}": connection refused (is a node running there?)\n`,
    );
  });
});

Deno.test("knarr serve joins its bootstrap and a query through either node finds both skills", async () => {
  const a = await project();
  const b = await project();
  Deno.writeTextFileSync(
    join(b, "knarr.toml"),
    Deno.readTextFileSync(join(b, "knarr.toml")).replace(
      "[skills.echo]",
      "[skills.echo2]",
    ).replace(
      'tags = ["example"]',
      'tags = ["example", "second"]',
    ),
  );
  const nodeA = await serve(a);
  const nodeB = await serve(b, ["--bootstrap", `127.0.0.1:${nodeA.port}`]);
  try {
    const deadline = Date.now() + 5000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      const r = await knarr([
        "query",
        "--bootstrap",
        `127.0.0.1:${nodeA.port}`,
        "--tag",
        "example",
        "--json",
      ]);
      names = JSON.parse(r.stdout).map((x: { skill_sheet: { name: string } }) =>
        x.skill_sheet.name
      ).sort();
      if (names.length === 2) break;
    }
    assertEquals(names, ["echo", "echo2"]);
  } finally {
    assertEquals((await nodeB.stop()).code, 0);
    assertEquals((await nodeA.stop()).code, 0);
  }
});

Deno.test("The seed walkthrough: init, serve, query and request the echo skill from other processes", async () => {
  const dir = await project();
  const node = await serve(dir);
  try {
    const bootstrap = `localhost:${node.port}`;
    const q = await knarr([
      "query",
      "--bootstrap",
      bootstrap,
      "--name",
      "echo",
    ]);
    assertEquals(q.code, 0);
    assertMatch(
      q.stdout,
      /^echo {3}[0-9a-f]{16}\.\.\. {2}127\.0\.0\.1:\d+ {2}Echoes input text back$/m,
    );
    const r = await knarr([
      "request",
      "--skill",
      "echo",
      "--input",
      '{"text": "hello"}',
      "--bootstrap",
      bootstrap,
    ]);
    assertEquals([r.code, r.stdout, r.stderr], [
      0,
      "Status: completed\nOutput:\n  text: hello\n",
      "",
    ]);
    const j = await knarr([
      "request",
      "--skill",
      "echo",
      "--input",
      '{"text": "hi"}',
      "--bootstrap",
      bootstrap,
      "--json",
    ]);
    const result = JSON.parse(j.stdout);
    assertEquals([result.status, result.output_data, result.error], [
      "completed",
      { text: "hi" },
      {},
    ]);
    const missing = await knarr([
      "request",
      "--skill",
      "echo",
      "--input",
      '{"other": 1}',
      "--bootstrap",
      bootstrap,
    ]);
    assertEquals(missing.code, 1);
    assertEquals(
      missing.stdout,
      "Status: failed\nError: INVALID_INPUT — Missing required fields: text\n",
    );
    const none = await knarr([
      "request",
      "--skill",
      "nope",
      "--input",
      "{}",
      "--bootstrap",
      bootstrap,
    ]);
    assertEquals([none.code, none.stdout], [
      1,
      "Status: failed\nError: NO_PROVIDER — No provider found for skill 'nope'\n",
    ]);
    const bad = await knarr([
      "request",
      "--skill",
      "echo",
      "--input",
      '"text"',
      "--bootstrap",
      bootstrap,
    ]);
    assertEquals(bad.code, 2);
    assertMatch(bad.stderr, /^error: Invalid --input: must be a JSON object\n/);
    const info = await knarr(["info", "--reputation"], { cwd: dir });
    assertMatch(
      info.stdout,
      /^Ledger: 2 accounts, 2 tasks provided, 0 tasks consumed, net balance 4\.0$/m,
    );
    assertMatch(info.stdout, /^Counterparties: 2 unique peers$/m);
  } finally {
    assertEquals((await node.stop()).code, 0);
  }
});

Deno.test("knarr serve hot-reloads knarr.toml and skill files", async () => {
  const dir = await project();
  const node = await serve(dir);
  try {
    const bootstrap = `127.0.0.1:${node.port}`;
    Deno.writeTextFileSync(
      join(dir, "skills", "upper.ts"),
      "export function handle(input: Record<string, unknown>) { return { text: String(input.text).toUpperCase() }; }\n",
    );
    const toml = join(dir, "knarr.toml");
    Deno.writeTextFileSync(
      toml,
      Deno.readTextFileSync(toml) +
        '\n[skills.upper]\nhandler = "skills/upper.ts"\ndescription = "Upper-cases text"\ntags = ["text"]\n',
    );
    const found = await poll(async () => {
      const r = await knarr([
        "request",
        "--skill",
        "upper",
        "--input",
        '{"text": "abc"}',
        "--bootstrap",
        bootstrap,
      ]);
      return r.stdout === "Status: completed\nOutput:\n  text: ABC\n";
    });
    assert(found, "the new skill was not served");
    // Editing the handler file swaps the code; a broken edit keeps the previous version.
    Deno.writeTextFileSync(
      join(dir, "skills", "upper.ts"),
      "export function handle(input: Record<string, unknown>) { return { text: `v2 ${input.text}` }; }\n",
    );
    assert(
      await poll(async () => {
        const r = await knarr([
          "request",
          "--skill",
          "upper",
          "--input",
          '{"text": "abc"}',
          "--bootstrap",
          bootstrap,
        ]);
        return r.stdout.includes("text: v2 abc");
      }),
      "the edited skill was not reloaded",
    );
    Deno.writeTextFileSync(
      join(dir, "skills", "upper.ts"),
      "export function handle( {\n",
    );
    await new Promise((r) => setTimeout(r, 1500));
    const still = await knarr([
      "request",
      "--skill",
      "upper",
      "--input",
      '{"text": "x"}',
      "--bootstrap",
      bootstrap,
    ]);
    assertEquals(still.stdout, "Status: completed\nOutput:\n  text: v2 x\n");
    // Removing the section deregisters the skill.
    Deno.writeTextFileSync(
      toml,
      Deno.readTextFileSync(toml).replace(/\n\[skills\.upper\][\s\S]*$/, "\n"),
    );
    assert(
      await poll(async () => {
        const r = await knarr([
          "query",
          "--bootstrap",
          bootstrap,
          "--name",
          "upper",
        ]);
        return r.stdout === "No skills found.\n";
      }),
      "the removed skill is still announced",
    );
  } finally {
    assertEquals((await node.stop()).code, 0);
  }
});

async function poll(
  check: () => Promise<boolean>,
  ms = 15_000,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

Deno.test("A remote slow skill's pushed result reaches a one-shot knarr request", async () => {
  const dir = await project();
  Deno.writeTextFileSync(
    join(dir, "skills", "later.ts"),
    "export async function handle(input: Record<string, unknown>) {\n" +
      "  await new Promise((r) => setTimeout(r, 300));\n  return { text: `later ${input.text}` };\n}\n",
  );
  Deno.writeTextFileSync(
    join(dir, "knarr.toml"),
    Deno.readTextFileSync(join(dir, "knarr.toml")) +
      '\n[skills.later]\nhandler = "skills/later.ts"\ndescription = "Answers later"\ntags = ["slow"]\nslow = true\n' +
      'input_schema = { text = "string" }\n',
  );
  const node = await serve(dir);
  try {
    const r = await knarr([
      "request",
      "--skill",
      "later",
      "--input",
      '{"text": "x"}',
      "--bootstrap",
      `127.0.0.1:${node.port}`,
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assertEquals([result.status, result.output_data], ["completed", {
      text: "later x",
    }]);
  } finally {
    assertEquals((await node.stop()).code, 0);
  }
});
