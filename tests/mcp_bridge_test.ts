/** MCP bridges against real MCP servers from npm, directly and over the knarr wire. */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { AssetStore } from "../src/assets/mod.ts";
import { McpBridge, splitCommand, toolSkill } from "../src/mcp/mod.ts";
import { BridgedSkills, KnarrNode } from "../src/node/mod.ts";
import type { SkillRunner } from "../src/node/mod.ts";
import { knarrRequest, serve } from "./cli_helpers.ts";
import { mcpServerCommand } from "./mcp_helpers.ts";

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("splitCommand() splits words as a shell does", () => {
  assertEquals(splitCommand(`npx -y "a b" 'c d' e\\ f`), [
    "npx",
    "-y",
    "a b",
    "c d",
    "e f",
  ]);
  assertEquals(splitCommand(`node "x\\"y"`), ["node", 'x"y']);
  assertEquals(splitCommand("  "), []);
});

Deno.test("toolSkill() maps names and schemas as the original, keeping optional fields optional", () => {
  const skill = toolSkill({
    name: "Read_Text_File",
    inputSchema: {
      type: "object",
      properties: {
        path: { type: "string" },
        head: { type: ["null", "number"] },
        tags: { type: "array" },
        any: {},
      },
      required: ["path"],
    },
  })!;
  assertEquals(skill.skill, "read-text-file");
  assertEquals(skill.tool, "Read_Text_File");
  assertEquals(skill.sheet.description, "MCP tool: Read_Text_File");
  assertEquals(skill.sheet.inputSchema, {
    path: "string",
    head: "number",
    tags: "array",
    any: "string",
    _required: ["path"],
  });
  assertEquals(skill.sheet.outputSchema, { content: "string" });
  assertEquals(skill.sheet.tags, ["mcp"]);
  assertEquals(toolSkill({ name: "no spaces allowed" }), null);
});

Deno.test("McpBridge serves server-everything: text, validation, images as assets, timeout and a killed child", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-mcp-" });
  const assets = new AssetStore(join(dir, "assets"));
  const events: string[] = [];
  await using bridge = await McpBridge.start(
    await mcpServerCommand("everything"),
    {
      timeoutMs: 1_500,
      restartDelayMs: 100,
      storeAsset: (bytes) => assets.put(bytes),
    },
  );
  bridge.onEvent((e) => events.push(e.type));
  const upAgain = () =>
    new Promise<void>((resolve) => {
      const off = bridge.onEvent((e) => {
        if (e.type === "up") {
          off();
          resolve();
        }
      });
    });
  try {
    await t.step("every tool is a skill", () => {
      const names = bridge.skills().map((s) => s.skill);
      assert(names.length >= 10, names.join(","));
      for (const name of ["echo", "get-sum", "get-tiny-image"]) {
        assert(names.includes(name));
      }
    });

    await t.step(
      "a text tool, with the node's keys kept from the tool",
      async () => {
        assertEquals(
          await bridge.call("echo", {
            message: "hi",
            _job_id: "j",
            _caller_node_id: "c",
          }),
          { status: "ok", output: { content: "Echo: hi" } },
        );
      },
    );

    await t.step(
      "an input the schema refuses never reaches the tool",
      async () => {
        const outcome = await bridge.call("get-sum", { a: 1, b: "two" });
        assertEquals(outcome.status, "invalid");
        assertMatch((outcome as { message: string }).message, /must be number/);
      },
    );

    await t.step("an image result becomes an asset reference", async () => {
      const outcome = await bridge.call("get-tiny-image", {});
      assert(outcome.status === "ok");
      const [image] = outcome.output.attachments as {
        type: string;
        data: string;
      }[];
      assertEquals(image!.type, "image");
      const hash = /^knarr-asset:\/\/([0-9a-f]{64})$/.exec(image!.data)![1]!;
      const png = await Deno.readFile((await assets.get(hash))!);
      assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    });

    await t.step(
      "a slow tool times out; the server is restarted and serves again",
      async () => {
        const pid = bridge.pid;
        const back = upAgain();
        assertEquals(
          await bridge.call("trigger-long-running-operation", {
            duration: 10,
            steps: 2,
          }),
          { status: "timeout" },
        );
        await back;
        assert(bridge.pid !== pid);
        assertEquals(
          (await bridge.call("get-sum", { a: 2, b: 3 })).status,
          "ok",
        );
      },
    );

    await t.step(
      "a killed child is restarted and its skills come back",
      async () => {
        const back = upAgain();
        Deno.kill(bridge.pid!, "SIGKILL");
        await back;
        assert(events.includes("down"));
        assertEquals(await bridge.call("echo", { message: "again" }), {
          status: "ok",
          output: { content: "Echo: again" },
        });
      },
    );
  } finally {
    await bridge.close();
    await assets.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Bridged MCP tools are called over the knarr wire: server-everything and server-filesystem", async () => {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr-mcp-wire-" }),
  );
  await Deno.writeTextFile(join(dir, "notes.txt"), "bridged file content\n");
  try {
    // As `knarr serve` does: the node's runner reaches the bridges once they run.
    let bridged: SkillRunner | null = null;
    await using provider = await KnarrNode.create({
      host: "127.0.0.1",
      runner: {
        has: (name) => bridged?.has(name) ?? false,
        run: (name, input, ctx) => bridged!.run(name, input, ctx),
      },
    });
    await provider.start({ maintenance: false });
    await using bridges = await BridgedSkills.start(provider, {
      [await mcpServerCommand("everything")]: 10,
      [await mcpServerCommand("filesystem", [dir])]: 10,
    });
    bridged = bridges.runner();
    // Every tool of both servers is a skill.
    for (
      const [name, ...args] of [["everything"], ["filesystem", dir]] as const
    ) {
      await using direct = await McpBridge.start(
        await mcpServerCommand(name, [...args]),
      );
      const tools = direct.skills().map((s) => s.skill);
      assert(tools.length >= 10, `${name}: ${tools.join(",")}`);
      for (const tool of tools) assert(bridges.names().includes(tool), tool);
    }
    assert(
      bridges.names().includes("read-text-file"),
      bridges.names().join(","),
    );

    await using caller = await KnarrNode.create({ host: "127.0.0.1" });
    await caller.start({ maintenance: false });
    await caller.join([provider.address]);

    const echo = await caller.request("echo", { message: "over the wire" });
    assertEquals([echo.status, echo.output_data], ["completed", {
      content: "Echo: over the wire",
    }]);
    const read = await caller.request("read-text-file", {
      path: join(dir, "notes.txt"),
    });
    assertEquals(read.status, "completed", JSON.stringify(read.error));
    assertMatch(String(read.output_data.content), /bridged file content/);
    const outside = await caller.request("read-text-file", {
      path: "/etc/hostname",
    });
    await Deno.writeTextFile(join(dir, "big.txt"), "x".repeat(2 * 1024 * 1024));
    const big = await caller.request("read-text-file", {
      path: join(dir, "big.txt"),
    });
    assertEquals(
      big.error.code,
      "HANDLER_ERROR",
      "a result too big for a frame",
    );
    assertEquals(outside.error.code, "HANDLER_ERROR");
    const wrong = await caller.request("get-sum", { a: 1, b: "two" });
    assertEquals(wrong.error.code, "INVALID_INPUT");
    assertMatch(String(wrong.error.message), /must be number/);
    const image = await caller.request("get-tiny-image", {});
    assertEquals(image.status, "completed");
    const [first] = image.output_data.attachments as {
      type: string;
      mimeType: string;
    }[];
    assertEquals([first!.type, first!.mimeType], ["image", "image/png"]);

    // A killed server: its skills leave the network, then come back with it.
    const everything = bridges.bridges.find((b) => b.has("echo"))!;
    const own = () => provider.discovery.skills.own().map((e) => e.skillKey);
    Deno.kill(everything.pid!, "SIGKILL");
    await waitFor(() => !own().includes("echo"));
    const during = await caller.request("echo", { message: "now?" }, {
      timeoutMs: 2_000,
    });
    assertEquals(during.status, "failed");
    await waitFor(() => own().includes("echo"), 15_000);
    assertEquals(
      (await caller.request("echo", { message: "back" })).output_data,
      { content: "Echo: back" },
    );

    // The node keeps serving after the refusals.
    const sum = await caller.request("get-sum", { a: 2, b: 40 });
    assertMatch(String(sum.output_data.content), /42/);
    assertEquals(await provider.callLocal("echo", { message: "local" }), {
      content: "Echo: local",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knarr serve --bridge serves the tools to knarr request in another process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-mcp-cli-" });
  try {
    await Deno.mkdir(join(dir, "skills"));
    // A sandboxed skill file that reaches a bridged tool through ctx.callLocal().
    await Deno.writeTextFile(
      join(dir, "skills", "sum.ts"),
      `export async function handle(input, ctx) {
  const r = await ctx.callLocal("get-sum", { a: Number(input.a), b: Number(input.b) });
  return { via_mcp: r.content };
}
`,
    );
    await Deno.writeTextFile(
      join(dir, "knarr.toml"),
      `[node]\nstorage = "node.db"\n[skills.sum]\nhandler = "skills/sum.ts"\n` +
        `description = "Adds through an MCP tool"\ntags = ["math"]\n` +
        `input_schema = { a = "number", b = "number" }\n`,
    );
    const node = await serve(dir, [
      "--bridge",
      await mcpServerCommand("everything"),
      "--bridge-timeout",
      "1",
    ]);
    try {
      assertMatch(
        node.lines.join("\n"),
        /^Bridged \d+ MCP tools from 1 servers$/m,
      );
      const echo = await knarrRequest(
        node.port,
        "echo",
        '{"message": "from the CLI"}',
      );
      assertEquals([echo.code, echo.stdout], [
        0,
        "Status: completed\nOutput:\n  content: Echo: from the CLI\n",
      ]);
      const sum = await knarrRequest(node.port, "sum", '{"a": 20, "b": 22}');
      assertEquals([sum.code, sum.stdout], [
        0,
        "Status: completed\nOutput:\n  via_mcp: The sum of 20 and 22 is 42.\n",
      ]);
      const slow = await knarrRequest(
        node.port,
        "trigger-long-running-operation",
        '{"duration": 10, "steps": 2}',
      );
      assertEquals([slow.code, slow.stdout], [
        1,
        "Status: failed\nError: TIMEOUT — Task timed out\n",
      ]);
    } finally {
      assertEquals((await node.stop()).code, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("McpBridge applies the tool filter (allow, then deny) and per-tool prices", async () => {
  await using bridge = await McpBridge.start(
    await mcpServerCommand("everything"),
    {
      toolFilter: { allow: ["echo", "get-sum", "get-env"], deny: ["get-env"] },
      price: 3,
      prices: { echo: 0.5 },
    },
  );
  const sheets = Object.fromEntries(
    bridge.skills().map((s) => [s.skill, s.sheet.price]),
  );
  assertEquals(sheets, { "echo": 0.5, "get-sum": 3 });
  assertEquals((await bridge.call("get-env", {})).status, "error");
});

Deno.test("BridgedSkills retries a server that could not start, and serves it once it does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-mcp-retry-" });
  try {
    const marker = join(dir, "tried");
    const server = await mcpServerCommand("everything");
    // Fails on its first start (as a package still being installed would), then works.
    const command =
      `sh -c 'if [ -f ${marker} ]; then exec ${server.replaceAll("'", "")}; ` +
      `else touch ${marker}; exit 1; fi'`;
    await using node = await KnarrNode.create({ host: "127.0.0.1" });
    await using bridges = await BridgedSkills.start(node, { [command]: 10 });
    assertEquals(bridges.names(), []);
    await waitFor(() => bridges.names().includes("echo"), 15_000);
    assert(node.discovery.skills.own().some((e) => e.skillKey === "echo"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
