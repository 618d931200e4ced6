import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr } from "./cli_helpers.ts";

const COMMANDS = [
  "init",
  "serve",
  "query",
  "request",
  "demand",
  "info",
  "relay",
  "mcp",
];
const FLAGS: Record<string, string[]> = {
  init: ["--port", "--bootstrap"],
  serve: [
    "--config",
    "--port",
    "--sidecar-port",
    "--cockpit-port",
    "--host",
    "--advertise-host",
    "--storage",
    "--bootstrap",
    "--bridge",
    "--bridge-timeout",
    "--log-level",
    "--log-format",
  ],
  query: [
    "--bootstrap",
    "--name",
    "--tag",
    "--port",
    "--timeout",
    "--json",
    "--trace",
    "--log-level",
  ],
  request: [
    "--skill",
    "--input",
    "--bootstrap",
    "--port",
    "--timeout",
    "--output-dir",
    "--json",
    "--log-level",
  ],
  demand: ["--storage", "--json"],
  info: ["--storage", "--reputation"],
  relay: ["--host", "--port", "--config", "--log-level", "--log-format"],
  mcp: [
    "--bootstrap",
    "--storage",
    "--expose-skills",
    "--refresh",
    "--log-level",
  ],
};

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "knarr-cli-" });
}

Deno.test("knarr --help lists every command and exits 0", async () => {
  const r = await knarr(["--help"]);
  assertEquals(r.code, 0);
  for (const c of COMMANDS) assertMatch(r.stdout, new RegExp(`^  ${c} `, "m"));
  assertEquals(r.stderr, "");
});

Deno.test("knarr <command> --help shows exactly the command's flags", async (t) => {
  for (const c of COMMANDS) {
    await t.step(c, async () => {
      const r = await knarr([c, "--help"]);
      assertEquals(r.code, 0);
      assertMatch(r.stdout, new RegExp(`^Usage: knarr ${c}`, "m"));
      const shown = [...r.stdout.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) =>
        m[1]
      );
      assertEquals(shown, FLAGS[c]);
    });
  }
});

Deno.test("knarr exits 2 with a one-line message and usage on usage errors", async (t) => {
  await t.step("no command", async () => {
    const r = await knarr([]);
    assertEquals(r.code, 2);
  });
  await t.step("unknown command", async () => {
    const r = await knarr(["frobnicate"]);
    assertEquals(r.code, 2);
    assertEquals(
      r.stderr,
      'error: Unknown command "frobnicate"; run `knarr --help` for the list of commands\n',
    );
  });
  await t.step("unknown flag", async () => {
    const r = await knarr(["info", "--bogus"]);
    assertEquals(r.code, 2);
    const lines = r.stderr.trimEnd().split("\n");
    assertEquals(lines[0], "error: Unknown option '--bogus'");
    assertEquals(
      lines[1],
      "Usage: knarr info [--storage node.db] [--reputation]",
    );
    assertEquals(r.stdout, "");
  });
  await t.step("flag missing its value", async () => {
    const r = await knarr(["serve", "--port"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /^error: Option '--port <value>' argument missing/);
  });
  await t.step("bad flag value", async () => {
    const r = await knarr(["serve", "--port", "http"]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /^error: Invalid --port "http": must be an integer from 0 to 65535\n/,
    );
  });
  await t.step("bad log level", async () => {
    const r = await knarr(["serve", "--log-level", "loud"]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /^error: Invalid --log-level "loud": must be one of debug, info, warn, error/,
    );
  });
  await t.step("bad log format", async () => {
    for (const command of ["serve", "relay"]) {
      const r = await knarr([command, "--log-format", "xml"]);
      assertEquals(r.code, 2);
      assertMatch(
        r.stderr,
        /^error: Invalid --log-format "xml": must be one of human, json\n/,
      );
    }
  });
  await t.step("bad cockpit port", async () => {
    const r = await knarr(["serve", "--cockpit-port", "70000"]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /^error: Invalid --cockpit-port "70000": must be an integer from 0 to 65535\n/,
    );
  });
  await t.step("unexpected positional", async () => {
    const r = await knarr(["info", "extra"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /^error: Unexpected argument "extra"/);
  });
  await t.step("init without a directory", async () => {
    const r = await knarr(["init"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /^error: Missing project directory/);
  });
});

Deno.test("knarr init creates the project and prints what the seed prints", async () => {
  const cwd = tempDir();
  const r = await knarr(["init", "my-provider"], { cwd });
  assertEquals(r.code, 0);
  assertEquals(
    r.stdout,
    [
      "Created project in my-provider/",
      "  knarr.toml        Node configuration",
      "  skills/echo.ts    Example skill handler",
      "To start your node:",
      "  cd my-provider",
      "  knarr serve",
      "",
    ].join("\n"),
  );
  assertEquals(r.stderr, "");
  const toml = Deno.readTextFileSync(join(cwd, "my-provider", "knarr.toml"));
  assertMatch(toml, /\[skills\.echo\]\nhandler = "skills\/echo\.ts:handle"/);
  const skill = Deno.readTextFileSync(
    join(cwd, "my-provider", "skills", "echo.ts"),
  );
  assertMatch(skill, /export async function handle\(/);
  // The generated project is a valid configuration.
  const info = await knarr(["info"], { cwd: join(cwd, "my-provider") });
  assertEquals(info.code, 0);
});

Deno.test("knarr init writes --port and --bootstrap into knarr.toml", async () => {
  const cwd = tempDir();
  const r = await knarr([
    "init",
    "p",
    "--port",
    "9300",
    "--bootstrap",
    "10.0.0.1:9000,10.0.0.2:9000",
  ], { cwd });
  assertEquals(r.code, 0);
  const toml = Deno.readTextFileSync(join(cwd, "p", "knarr.toml"));
  assertMatch(toml, /^port = 9300$/m);
  assertMatch(
    toml,
    /^bootstrap = \["10\.0\.0\.1:9000", "10\.0\.0\.2:9000"\]$/m,
  );
});

Deno.test("knarr init refuses a non-empty directory and changes nothing", async () => {
  const cwd = tempDir();
  Deno.mkdirSync(join(cwd, "busy"));
  Deno.writeTextFileSync(join(cwd, "busy", "notes.txt"), "keep me");
  const r = await knarr(["init", "busy"], { cwd });
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    'error: Cannot create project in "busy": directory is not empty; choose a new directory\n',
  );
  assertEquals([...Deno.readDirSync(join(cwd, "busy"))].map((e) => e.name), [
    "notes.txt",
  ]);
});

Deno.test("knarr info prints the same identity on every run", async () => {
  const cwd = tempDir();
  const a = await knarr(["info", "--storage", "n.db"], { cwd });
  const b = await knarr(["info", "--storage", "n.db"], { cwd });
  assertEquals(a.code, 0);
  assertMatch(a.stdout, /^Node ID: [0-9a-f]{64}\nPublic Key: [0-9a-f]{64}\n/);
  assertEquals(a.stdout, b.stdout);
});

Deno.test("knarr demand prints the empty state, and JSON with --json", async () => {
  const cwd = tempDir();
  const r = await knarr(["demand", "--storage", "n.db"], { cwd });
  assertEquals([r.code, r.stdout], [0, "No demand recorded.\n"]);
  const j = await knarr(["demand", "--storage", "n.db", "--json"], { cwd });
  assertEquals([j.code, JSON.parse(j.stdout)], [0, []]);
});

Deno.test("knarr reports a bad config in one line without a stack trace, exit 1", async () => {
  const cwd = tempDir();
  Deno.writeTextFileSync(join(cwd, "knarr.toml"), '[node]\nport = "nine"\n');
  const r = await knarr(["serve"], { cwd });
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    `error: Invalid config "${
      join(Deno.realPathSync(cwd), "knarr.toml")
    }" at node.port: must be an integer from 0 to 65535 (got "nine")\n`,
  );
  assertEquals(r.stdout, "");
  const debug = await knarr(["serve", "--log-level", "debug"], { cwd });
  assertEquals(debug.code, 1);
  assertMatch(debug.stderr, /ConfigError/);
});

Deno.test("knarr reports a corrupt database in one line, exit 1", async () => {
  const cwd = tempDir();
  Deno.writeTextFileSync(join(cwd, "bad.db"), "garbage ".repeat(200));
  const r = await knarr(["info", "--storage", "bad.db"], { cwd });
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    /^error: Cannot open database ".*bad\.db": the file is corrupt or not a knarr database .*move it aside/,
  );
  assert(!r.stderr.includes("    at "));
});
