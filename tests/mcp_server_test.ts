/** `knarr mcp` driven by the MCP SDK's own client: the network's skills as MCP tools. */
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { AssetStore } from "../src/assets/mod.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { knarr, MAIN_PATH } from "./cli_helpers.ts";

const PNG = Uint8Array.from([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
]);

const SHEET = {
  version: "1.0.0",
  tags: ["text"],
  outputSchema: { text: "string" },
  price: 1,
  maxInputSize: 65536,
};

type TextItem = {
  type: string;
  text?: string;
  mimeType?: string;
  data?: string;
};

Deno.test({
  name:
    "knarr mcp offers query, request and demand, and the network's skills, to an MCP client",
  // The SDK's stdio client leaves an unref'd 2 s timer behind even after the child exits.
  sanitizeOps: false,
  fn: mcpClientTest,
});

async function mcpClientTest(t: Deno.TestContext) {
  const dir = await Deno.makeTempDir({ prefix: "knarr-mcp-server-" });
  await using provider = await KnarrNode.create({
    host: "127.0.0.1",
    assets: new AssetStore(join(dir, "assets")),
    sidecar: { port: 0 },
  });
  await provider.start({ maintenance: false });
  await provider.announce({
    name: "upper",
    description: "Upper-cases text",
    inputSchema: { text: "string" },
    ...SHEET,
  });
  provider.registerHandler(
    "upper",
    (input) => ({ text: String(input.text).toUpperCase() }),
  );
  await provider.announce({
    name: "logo",
    description: "Returns a tiny PNG as an asset",
    inputSchema: {},
    ...SHEET,
  });
  provider.registerHandler("logo", async () => ({
    file: `knarr-asset://${await provider.assets!.put(PNG)}`,
  }));

  const storage = join(dir, "client", "mcp.db");
  await Deno.mkdir(join(dir, "client"));
  const client = new Client({ name: "knarr-test", version: "1.0.0" }, {
    capabilities: {},
  });
  await client.connect(
    new StdioClientTransport({
      command: Deno.execPath(),
      args: [
        "run",
        "-A",
        "--quiet",
        MAIN_PATH,
        "mcp",
        "--bootstrap",
        `127.0.0.1:${provider.address.port}`,
        "--storage",
        storage,
        "--expose-skills",
        "--refresh",
        "0.2",
        "--log-level",
        "error",
      ],
      stderr: "pipe",
    }),
  );
  try {
    await t.step("tools/list has the three tools and every skill", async () => {
      const names = (await client.listTools()).tools.map((
        tool: { name: string },
      ) => tool.name)
        .sort();
      assertEquals(names, [
        "knarr_demand",
        "knarr_query",
        "knarr_request",
        "logo",
        "upper",
      ]);
    });

    await t.step("knarr_request runs a real skill on a real node", async () => {
      const result = await client.callTool({
        name: "knarr_request",
        arguments: { skill: "upper", input: { text: "hello mcp" } },
      });
      const [item] = result.content as TextItem[];
      assertEquals(JSON.parse(item!.text!), { text: "HELLO MCP" });
    });

    await t.step("an exposed skill is a tool of its own", async () => {
      const result = await client.callTool({
        name: "upper",
        arguments: { text: "x" },
      });
      assertEquals(JSON.parse((result.content as TextItem[])[0]!.text!), {
        text: "X",
      });
    });

    await t.step("an asset output comes back as image content", async () => {
      const result = await client.callTool({
        name: "knarr_request",
        arguments: { skill: "logo", input: {} },
      });
      const image = (result.content as TextItem[]).find((c) =>
        c.type === "image"
      );
      assertEquals(image?.mimeType, "image/png");
      assertEquals(atob(image!.data!).length, PNG.length);
    });

    await t.step(
      "knarr_query lists providers with schema and reputation",
      async () => {
        const result = await client.callTool({
          name: "knarr_query",
          arguments: { name: "upper" },
        });
        const [found] = JSON.parse((result.content as TextItem[])[0]!.text!);
        assertEquals(found.provider, provider.nodeId);
        assertEquals(found.input_schema, { text: "string" });
        assert(found.reputation.tasks >= 2, JSON.stringify(found.reputation));
      },
    );

    await t.step(
      "a new skill on the network is announced with tools/list_changed",
      async () => {
        const changed = new Promise<void>((resolve) =>
          client.setNotificationHandler(
            ToolListChangedNotificationSchema,
            () => resolve(),
          )
        );
        await provider.announce({
          name: "lower",
          description: "Lower-cases text",
          inputSchema: { text: "string" },
          ...SHEET,
        });
        await changed;
        const names = (await client.listTools()).tools.map((
          tool: { name: string },
        ) => tool.name);
        assert(names.includes("lower"), names.join(","));
      },
    );

    await t.step(
      "a failure is an MCP error result, and demand records it",
      async () => {
        const result = await client.callTool({
          name: "knarr_request",
          arguments: { skill: "translate", input: {} },
        });
        assertEquals(result.isError, true);
        assertMatch((result.content as TextItem[])[0]!.text!, /NO_PROVIDER/);
        const demand = await client.callTool({
          name: "knarr_demand",
          arguments: {},
        });
        assertMatch((demand.content as TextItem[])[0]!.text!, /translate/);
      },
    );
  } finally {
    await client.close();
    // The SDK's stdio client leaves a 2 s timer running even after the child exits.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  }

  // The client's identity and ledger stay in its storage.
  await using again = await KnarrNode.create({ storage });
  assert(
    (again.ledger.get(provider.identity.publicKey)?.tasksConsumed ?? 0) >= 3,
  );
  await again.close();
  await Deno.remove(dir, { recursive: true });
}

Deno.test("knarr mcp without --bootstrap is a usage error; an unreachable one a runtime error", async () => {
  const missing = await knarr(["mcp", "--storage", ":memory:"]);
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /Missing --bootstrap host:port/);
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  const down = await knarr([
    "mcp",
    "--storage",
    ":memory:",
    "--bootstrap",
    `127.0.0.1:${port}`,
  ]);
  assertEquals(down.code, 1);
  assertMatch(down.stderr, /^error: Cannot reach bootstrap/m);
  assertEquals(down.stdout, "");
});
