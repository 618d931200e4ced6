import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../../tests/assert.ts";
import {
  ConfigError,
  defaultConfig,
  DEFAULTS,
  loadConfig,
  parseConfig,
} from "./mod.ts";

function project(): string {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-config-" });
  Deno.mkdirSync(join(dir, "skills"));
  Deno.writeTextFileSync(
    join(dir, "skills", "echo.ts"),
    "export async function handle(i) { return i; }\n",
  );
  return dir;
}

const ECHO = `
[skills.echo]
handler = "skills/echo.ts"
description = "Echoes input text back"
tags = ["example"]
`;

Deno.test("parseConfig() fills every default of the reference", () => {
  const dir = project();
  const c = parseConfig(ECHO, join(dir, "knarr.toml"));
  assertEquals(c.node, {
    port: 9000,
    host: "0.0.0.0",
    storage: join(dir, "node.db"),
    advertiseHost: null,
    sidecarPort: 9001,
    maxAssetSize: 104_857_600,
    maxTaskTimeout: 3600,
    taskSlots: 4,
    maxQueueDepth: 100,
  });
  assertEquals(c.network, {
    bootstrap: [],
    upnp: false,
    gossipFanout: 3,
    relay: null,
    relayWhen: "always",
    maxPeers: 4096,
    maxPeersPerAddress: 8,
    exemptLoopback: true,
    maxRemoteSkills: 10_000,
    maxSkillsPerProvider: 64,
    gossipForwardsPerSecond: 20,
  });
  assertEquals(c.sidecar, {
    assetDir: join(dir, "assets"),
    maxTotalSize: 1_073_741_824,
    assetTtl: 3600,
    allowUploads: "any",
    replayMemory: 100_000,
  });
  assertEquals(c.bridges, {});
  assertEquals(c.policy, {
    initialCredit: 3.0,
    minBalance: -10.0,
    titForTat: false,
  });
  assertEquals(c.relay, { ...DEFAULTS.relay, keyFile: null });
  assertEquals(c.cockpit, { port: 9002, host: "127.0.0.1" });
  assertEquals(c.skills, [{
    name: "echo",
    handlerPath: join(dir, "skills", "echo.ts"),
    handlerExport: "handle",
    description: "Echoes input text back",
    tags: ["example"],
    version: "1.0.0",
    inputSchema: {},
    outputSchema: {},
    visibility: "public",
    allowedNodes: [],
    price: 1.0,
    maxInputSize: 65_536,
    net: [],
    read: [],
    slow: false,
    uri: null,
  }]);
  assertEquals(c.file, join(dir, "knarr.toml"));
});

Deno.test("parseConfig() reads every key and resolves paths against the config directory", () => {
  const dir = project();
  const id = "ab".repeat(32);
  const c = parseConfig(
    `
[node]
port = 9100
host = "127.0.0.1"
storage = "data/n.db"
advertise_host = "node.example"
sidecar_port = 0
max_asset_size = 1024
max_task_timeout = 0
task_slots = 2
max_queue_depth = 5
[network]
bootstrap = ["10.0.0.1:9000", "[::1]:9001"]
upnp = true
gossip_fanout = 5
relay = "relay.example:9009"
relay_when = "unreachable"
max_peers = 100
max_peers_per_address = 2
exempt_loopback = false
max_remote_skills = 500
max_skills_per_provider = 4
gossip_forwards_per_second = 2.5
[sidecar]
asset_dir = "blobs"
max_total_size = 2048
asset_ttl = 0
allow_uploads = ["${id}"]
replay_memory = 1000
[skills.fetch-page]
handler = "skills/echo.ts:run"
description = "d"
tags = ["Web", "http"]
version = "2.0.1"
input_schema = { url = "string", _required = ["url"] }
output_schema = { body = "string" }
visibility = "whitelist"
allowed_nodes = ["${id}"]
price = 2.5
max_input_size = 10
net = ["example.com", "api.example.com:443"]
read = ["data"]
slow = true
uri = "knarr:///web/fetch@1"
[bridges]
"npx -y some-mcp" = 45
"node filtered.js" = { timeout = 5, tool_filter = { allow = ["a", "b"], deny = ["b"] }, price = 2.0, prices = { a = 0.5 } }
[policy]
initial_credit = 10
min_balance = 0
tit_for_tat = true
[relay]
enabled = true
port = 9010
version = "1.0"
bind_identities = true
`,
    join(dir, "knarr.toml"),
  );
  assertEquals(c.node.storage, join(dir, "data", "n.db"));
  assertEquals(c.node.advertiseHost, "node.example");
  assertEquals(
    c.node.sidecarPort,
    null,
    "sidecar_port = 0 disables the sidecar",
  );
  assertEquals(c.node.maxTaskTimeout, 0);
  assertEquals(c.network.upnp, true);
  assertEquals(c.network.relay, { host: "relay.example", port: 9009 });
  assertEquals(c.network.relayWhen, "unreachable");
  assertEquals(c.network.bootstrap, [{ host: "10.0.0.1", port: 9000 }, {
    host: "::1",
    port: 9001,
  }]);
  assertEquals(
    [
      c.network.maxPeers,
      c.network.maxPeersPerAddress,
      c.network.exemptLoopback,
      c.network.maxRemoteSkills,
      c.network.maxSkillsPerProvider,
      c.network.gossipForwardsPerSecond,
    ],
    [100, 2, false, 500, 4, 2.5],
  );
  assertEquals(c.sidecar, {
    assetDir: join(dir, "blobs"),
    maxTotalSize: 2048,
    assetTtl: 0,
    allowUploads: [id],
    replayMemory: 1000,
  });
  const s = c.skills[0]!;
  assertEquals(
    [s.name, s.handlerExport, s.tags, s.visibility, s.allowedNodes],
    [
      "fetch-page",
      "run",
      ["web", "http"],
      "whitelist",
      [id],
    ],
  );
  assertEquals([s.price, s.maxInputSize, s.net, s.read, s.slow, s.uri], [
    2.5,
    10,
    ["example.com", "api.example.com:443"],
    [join(dir, "data")],
    true,
    "knarr:///web/fetch@1",
  ]);
  assertEquals(s.inputSchema, { url: "string", _required: ["url"] });
  assertEquals(c.bridges, {
    "npx -y some-mcp": {
      timeout: 45,
      allow: null,
      deny: [],
      price: 1,
      prices: {},
    },
    "node filtered.js": {
      timeout: 5,
      allow: ["a", "b"],
      deny: ["b"],
      price: 2,
      prices: { a: 0.5 },
    },
  });
  assertEquals(c.policy, { initialCredit: 10, minBalance: 0, titForTat: true });
  assertEquals([
    c.relay.enabled,
    c.relay.port,
    c.relay.version,
    c.relay.bindIdentities,
  ], [true, 9010, "1.0", true]);
});

Deno.test("parseConfig() applies overrides over file values over defaults", () => {
  const dir = project();
  const c = parseConfig(
    `[node]\nport = 9100\nhost = "127.0.0.1"\n[network]\nbootstrap = ["a:1"]`,
    join(dir, "knarr.toml"),
    {
      port: 9200,
      advertiseHost: "1.2.3.4",
      storage: "x.db",
      bootstrap: ["b:2"],
      bridges: ["mcp-a"],
      bridgeTimeout: 7,
    },
  );
  assertEquals(c.node.port, 9200);
  assertEquals(c.node.sidecarPort, 9201);
  assertEquals(c.node.host, "127.0.0.1");
  assertEquals(c.node.advertiseHost, "1.2.3.4");
  assertEquals(c.node.storage, join(Deno.cwd(), "x.db"));
  assertEquals(c.network.bootstrap, [{ host: "b", port: 2 }]);
  assertEquals(c.bridges, {
    "mcp-a": { timeout: 7, allow: null, deny: [], price: 1, prices: {} },
  });
});

Deno.test("loadConfig() sidecar_port: port + 1, explicit, disabled, and --sidecar-port", async () => {
  const dir = Deno.makeTempDirSync();
  const file = join(dir, "knarr.toml");
  Deno.writeTextFileSync(file, "[node]\nport = 9300\n");
  assertEquals((await loadConfig(file)).node.sidecarPort, 9301);
  assertEquals(
    (await loadConfig(file, { sidecarPort: 9400 })).node.sidecarPort,
    9400,
  );
  assertEquals(
    (await loadConfig(file, { sidecarPort: 0 })).node.sidecarPort,
    null,
  );
  Deno.writeTextFileSync(file, "[node]\nport = 65535\n");
  assertEquals((await loadConfig(file)).node.sidecarPort, null);
  Deno.writeTextFileSync(file, "[node]\nport = 9300\nsidecar_port = 7000\n");
  assertEquals((await loadConfig(file)).node.sidecarPort, 7000);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("loadConfig() [cockpit]: port + 2, explicit, disabled, --cockpit-port, host, and bad values", async () => {
  const dir = Deno.makeTempDirSync();
  const file = join(dir, "knarr.toml");
  const cockpit = async (text: string, cockpitPort?: number) => {
    Deno.writeTextFileSync(file, text);
    return (await loadConfig(
      file,
      cockpitPort === undefined ? {} : { cockpitPort },
    )).cockpit;
  };
  assertEquals(await cockpit("[node]\nport = 9300\n"), {
    port: 9302,
    host: "127.0.0.1",
  });
  assertEquals((await cockpit("[node]\nport = 9300\n", 9500)).port, 9500);
  assertEquals((await cockpit("[node]\nport = 9300\n", 0)).port, null);
  assertEquals((await cockpit("[node]\nport = 65534\n")).port, null);
  assertEquals((await cockpit("[node]\nport = 0\n")).port, 0);
  assertEquals(
    await cockpit('[cockpit]\nport = 0\nhost = "0.0.0.0"\n'),
    { port: null, host: "0.0.0.0" },
  );
  assertEquals((await cockpit("[cockpit]\nport = 8080\n")).port, 8080);
  for (
    const [text, problem] of [
      [
        "[cockpit]\nport = 70000\n",
        "cockpit.port: must be an integer from 0 to 65535 (got 70000)",
      ],
      [
        '[cockpit]\nhost = ""\n',
        "cockpit.host: must be 1 to 256 characters long (got 0)",
      ],
      [
        "[cockpit]\ntoken = 1\n",
        "cockpit.token: unknown key; known keys are port, host",
      ],
      ["cockpit = 3\n", "cockpit: must be a table ([cockpit])"],
    ]
  ) {
    Deno.writeTextFileSync(file, text!);
    await assertRejectsWith(loadConfig(file), `at ${problem}`);
  }
  Deno.removeSync(dir, { recursive: true });
});

async function assertRejectsWith(p: Promise<unknown>, text: string) {
  try {
    await p;
  } catch (error) {
    assert(error instanceof ConfigError);
    assert(error.message.endsWith(text), `${error.message} !~ ${text}`);
    return;
  }
  throw new Error(`expected a ConfigError ending with ${text}`);
}

Deno.test("defaultConfig() works without a file", () => {
  const c = defaultConfig("/tmp/x", { port: 0 });
  assertEquals(c.file, null);
  assertEquals(c.node.port, 0);
  // Beside a node on any free port, the sidecar takes any free port too.
  assertEquals(c.node.sidecarPort, 0);
  assertEquals(c.node.storage, "/tmp/x/node.db");
  assertEquals(c.skills, []);
  assertEquals(c.sidecar, {
    assetDir: "/tmp/x/assets",
    maxTotalSize: DEFAULTS.sidecar.maxTotalSize,
    assetTtl: DEFAULTS.sidecar.assetTtl,
    allowUploads: "any",
    replayMemory: DEFAULTS.sidecar.replayMemory,
  });
});

Deno.test("parseConfig() reads [sidecar] allow_uploads as any, callers or node ids", () => {
  const file = join(project(), "knarr.toml");
  const read = (value: string) =>
    parseConfig(`[sidecar]\nallow_uploads = ${value}`, file).sidecar
      .allowUploads;
  assertEquals(read(`"any"`), "any");
  assertEquals(read(`"callers"`), "callers");
  const ids = ["ab".repeat(32), "0f".repeat(32)];
  assertEquals(read(JSON.stringify(ids)), ids);
});

Deno.test("parseConfig() rejects bad files with one line naming the file, the key and the fix", async (t) => {
  const dir = project();
  const file = join(dir, "knarr.toml");
  const cases: [string, string, RegExp][] = [
    ["syntax error", "[node\nport = 1", /TOML syntax error/],
    [
      "unknown section",
      "[nodes]\nport = 1",
      /at nodes: unknown key; known keys are node, network/,
    ],
    [
      "unknown key",
      "[node]\nprot = 1",
      /at node\.prot: unknown key; known keys are port, host/,
    ],
    [
      "wrong type",
      `[node]\nport = "abc"`,
      /at node\.port: must be an integer from 0 to 65535 \(got "abc"\)/,
    ],
    [
      "out of range",
      "[node]\nport = 70000",
      /at node\.port: must be an integer from 0 to 65535 \(got 70000\)/,
    ],
    [
      "task_slots zero",
      "[node]\ntask_slots = 0",
      /at node\.task_slots: must be an integer from 1/,
    ],
    [
      "bad bootstrap",
      `[network]\nbootstrap = ["nope"]`,
      /at network\.bootstrap: entry "nope" is not host:port/,
    ],
    [
      "bool type",
      `[network]\nupnp = "yes"`,
      /at network\.upnp: must be true or false/,
    ],
    [
      "bad bridge timeout",
      `[bridges]\n"cmd" = -1`,
      /at bridges\."cmd": must be a timeout in seconds/,
    ],
    [
      "bridge as a string",
      `[bridges]\n"cmd" = "30"`,
      /at bridges\."cmd": must be a timeout in seconds or a table/,
    ],
    [
      "unknown bridge key",
      `[bridges]\n"cmd" = { timout = 3 }`,
      /at bridges\."cmd"\.timout: unknown key/,
    ],
    [
      "bad tool filter",
      `[bridges]\n"cmd" = { tool_filter = { allow = "echo" } }`,
      /at bridges\."cmd"\.tool_filter\.allow/,
    ],
    [
      "bad tool price",
      `[bridges]\n"cmd" = { prices = { echo = "free" } }`,
      /at bridges\."cmd"\.prices\."echo": must be a number/,
    ],
    [
      "policy type",
      `[policy]\nmin_balance = "low"`,
      /at policy\.min_balance: must be a number/,
    ],
    [
      "whitelist without allowed_nodes",
      ECHO + `visibility = "whitelist"`,
      /at skills\.echo\.allowed_nodes: visibility "whitelist" needs allowed_nodes/,
    ],
    [
      "bad visibility",
      ECHO + `visibility = "secret"`,
      /at skills\.echo\.visibility: must be one of public, private, whitelist/,
    ],
    [
      "handler outside project",
      ECHO.replace("skills/echo.ts", "../outside.ts"),
      /at skills\.echo\.handler: "\.\.\/outside\.ts" is outside the project directory .*; move the handler inside it/,
    ],
    [
      "absolute handler outside",
      ECHO.replace("skills/echo.ts", "/etc/passwd.ts"),
      /is outside the project directory/,
    ],
    [
      "missing handler file",
      ECHO.replace("skills/echo.ts", "skills/nope.ts"),
      /at skills\.echo\.handler: file "skills\/nope\.ts" not found/,
    ],
    [
      "handler not a module",
      ECHO.replace("skills/echo.ts", "skills/echo.py"),
      /must name a \.ts or \.js file/,
    ],
    [
      "missing handler",
      `[skills.echo]\ndescription = "d"\ntags = ["a"]`,
      /at skills\.echo\.handler: missing; set handler = "skills\/echo\.ts"/,
    ],
    [
      "description too long",
      ECHO.replace(`"Echoes input text back"`, `"${"x".repeat(1025)}"`),
      /at skills\.echo\.description: must be 1 to 1024 characters \(got 1025\)/,
    ],
    [
      "no tags",
      ECHO.replace(`["example"]`, "[]"),
      /at skills\.echo\.tags: must list 1 to 10 tags/,
    ],
    [
      "bad tag",
      ECHO.replace(`["example"]`, `["has space"]`),
      /tag "has space" must be 1 to 32 characters/,
    ],
    [
      "bad version",
      ECHO + `version = "1.0"`,
      /at skills\.echo\.version: must look like 1\.2\.3/,
    ],
    [
      "bad skill name",
      ECHO.replace("skills.echo", `skills."Echo!"`),
      /skill name "Echo!" must be 1 to 64 characters/,
    ],
    [
      "max_input_size range",
      ECHO + "max_input_size = 10485761",
      /at skills\.echo\.max_input_size: must be an integer from 1 to 10485760/,
    ],
    [
      "price range",
      ECHO + "price = 1001",
      /at skills\.echo\.price: must be a number from -1000 to 1000/,
    ],
    [
      "bad allowed node",
      ECHO + `visibility = "whitelist"\nallowed_nodes = ["abc"]`,
      /"abc" is not a node id/,
    ],
    [
      "bad net",
      ECHO + `net = ["http://x"]`,
      /at skills\.echo\.net: "http:\/\/x" must be a host or host:port/,
    ],
    [
      "bad schema",
      ECHO + "input_schema = { text = 1 }",
      /at skills\.echo\.input_schema\.text: must be a type name string/,
    ],
    [
      "unknown skill key",
      ECHO + "timeout = 5",
      /at skills\.echo\.timeout: unknown key/,
    ],
    [
      "max_total_size zero",
      "[sidecar]\nmax_total_size = 0",
      /at sidecar\.max_total_size: must be an integer from 1 to 9007199254740991 \(got 0\)/,
    ],
    [
      "max_total_size beyond 2^53-1",
      // smol-toml itself refuses integers past 2^53-1; a float still gets here.
      "[sidecar]\nmax_total_size = 1e16",
      /at sidecar\.max_total_size: must be an integer from 1 to 9007199254740991/,
    ],
    [
      "max_total_size as text",
      `[sidecar]\nmax_total_size = "1GB"`,
      /at sidecar\.max_total_size: must be an integer from 1 .* \(got "1GB"\)/,
    ],
    [
      "asset_ttl negative",
      "[sidecar]\nasset_ttl = -1",
      /at sidecar\.asset_ttl: must be an integer from 0 to 31536000 \(got -1\)/,
    ],
    [
      "asset_ttl fraction",
      "[sidecar]\nasset_ttl = 1.5",
      /at sidecar\.asset_ttl: must be an integer from 0 to 31536000 \(got 1\.5\)/,
    ],
    [
      "asset_ttl over a year",
      "[sidecar]\nasset_ttl = 31536001",
      /at sidecar\.asset_ttl: must be an integer from 0 to 31536000/,
    ],
    [
      "allow_uploads unknown word",
      `[sidecar]\nallow_uploads = "everyone"`,
      /at sidecar\.allow_uploads: got "everyone"; set allow_uploads = "any", "callers" or \["<node id>", \.\.\.\]/,
    ],
    [
      "allow_uploads boolean",
      "[sidecar]\nallow_uploads = true",
      /at sidecar\.allow_uploads: got true; set allow_uploads = /,
    ],
    [
      "allow_uploads empty list",
      "[sidecar]\nallow_uploads = []",
      /at sidecar\.allow_uploads: the list is empty; set allow_uploads = /,
    ],
    [
      "allow_uploads bad node id",
      `[sidecar]\nallow_uploads = ["abc"]`,
      /at sidecar\.allow_uploads: "abc" is not a node id; set allow_uploads = /,
    ],
    [
      "allow_uploads upper-case node id",
      `[sidecar]\nallow_uploads = ["${"AB".repeat(32)}"]`,
      /at sidecar\.allow_uploads: "(AB)+…" is not a node id/,
    ],
    [
      "allow_uploads number in the list",
      "[sidecar]\nallow_uploads = [1]",
      /at sidecar\.allow_uploads: 1 is not a node id/,
    ],
    [
      "unknown sidecar key",
      "[sidecar]\nmax_asset_size = 1",
      /at sidecar\.max_asset_size: unknown key; known keys are asset_dir, max_total_size, asset_ttl, allow_uploads/,
    ],
    [
      "network relay address",
      `[network]\nrelay = "nowhere"`,
      /at network\.relay: "nowhere" is not host:port/,
    ],
    [
      "network relay_when",
      `[network]\nrelay_when = "sometimes"`,
      /at network\.relay_when: must be "always" or "unreachable"/,
    ],
    [
      "relay key",
      "[relay]\nport = -1",
      /at relay\.port: must be an integer from 0 to 65535/,
    ],
    [
      "relay takeover",
      `[relay]\ntakeover = "nobody"`,
      /at relay\.takeover: must be "same_key" or "any" \(got "nobody"\)/,
    ],
  ];
  for (const [name, text, pattern] of cases) {
    await t.step(name, () => {
      const error = assertThrowsConfig(() => parseConfig(text, file));
      assert(
        error.message.startsWith(`Invalid config "${file}"`),
        error.message,
      );
      assertMatch(error.message, pattern);
      assert(!error.message.includes("\n"), `one line: ${error.message}`);
    });
  }
});

Deno.test("loadConfig() names a missing file and how to create one", async () => {
  const error = await loadConfig("/nonexistent/knarr.toml").catch((e) => e);
  assert(error instanceof ConfigError);
  assertMatch(
    error.message,
    /Invalid config "\/nonexistent\/knarr\.toml": file not found; create it with `knarr init <dir>`/,
  );
});

Deno.test("loadConfig() loads the init template", async () => {
  const dir = project();
  Deno.writeTextFileSync(join(dir, "knarr.toml"), ECHO);
  const c = await loadConfig(join(dir, "knarr.toml"));
  assertEquals(c.skills.map((s) => s.name), ["echo"]);
});

function assertThrowsConfig(fn: () => unknown): ConfigError {
  let caught: unknown;
  assertThrows(() => {
    try {
      fn();
    } catch (e) {
      caught = e;
      throw e;
    }
  }, ConfigError);
  return caught as ConfigError;
}
