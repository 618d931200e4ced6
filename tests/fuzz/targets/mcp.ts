/**
 * Fuzz targets of the MCP bridge: the child's output split into lines, its tool list turned into
 * skills, and its call results, through a real child process and the real bridge.
 */
import fc from "fast-check";
import { deserializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import { ListToolsResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { buildSheet } from "../../../src/discovery/mod.ts";
import { McpBridge, type McpTool, toolSkill } from "../../../src/mcp/mod.ts";
// The line splitter is private to the MCP layer; its fuzz target reads it like a unit test.
import { LineSplitter } from "../../../src/mcp/_line_splitter.ts";
import { encodeBase64 } from "../base64.ts";
import {
  attempt,
  attemptAsync,
  ensure,
  FuzzFailure,
  type FuzzTarget,
  isCleanError,
  pieces,
  text,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, streamed, whole } from "../mutate.ts";
import {
  hostileJson,
  type Json,
  jsonText,
  mutatedJson,
} from "../mutate_json.ts";

const MAX_LINE = 48;

/** Lines as a reference reads them: split at "\n", one "\r" dropped, too long dropped, last partial line ignored. */
function modelLines(data: Uint8Array): { lines: string[]; dropped: number } {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a) {
      parts.push(data.subarray(from, i));
      from = i + 1;
    }
  }
  const out = { lines: [] as string[], dropped: 0 };
  for (let p of parts) {
    if (p[p.length - 1] === 0x0d) p = p.subarray(0, -1);
    if (p.length > MAX_LINE) out.dropped++;
    else out.lines.push(new TextDecoder().decode(p));
  }
  return out;
}

const RPC_LINES = [
  '{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n',
  '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}\r\n',
  '{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no"}}\n\n',
].map(utf8);

function isCleanRpcError(error: unknown): boolean {
  return isCleanError(error, [SyntaxError]) ||
    (error instanceof Error && error.name === "ZodError" &&
      isCleanError(error, [Error]));
}

const lines: FuzzTarget = {
  name: "mcp.lines",
  about:
    "LineSplitter on a child's stdout, then deserializeMessage: same lines however split, long lines dropped whole",
  input: () =>
    streamed(fc.oneof(
      {
        weight: 5,
        arbitrary: mutatedBytes(RPC_LINES, {
          tokens: ["\n", "\r\n", "\r", "\u00e9", "{", "}"],
        }),
      },
      { weight: 1, arbitrary: randomBytes(200) },
    )),
  open: () => ({
    check({ data, cuts }) {
      const model = modelLines(data);
      const splitter = new LineSplitter(MAX_LINE);
      const got = { lines: [] as string[], dropped: 0 };
      for (const piece of pieces(data, cuts)) {
        const { lines, dropped } = splitter.push(piece);
        got.lines.push(...lines);
        got.dropped += dropped;
      }
      ensure(
        JSON.stringify(got) === JSON.stringify(model),
        `LineSplitter read ${got.lines.length} lines (${got.dropped} dropped), the reference ${model.lines.length} (${model.dropped})`,
      );
      for (const line of got.lines) {
        if (line.trim() === "") continue;
        try {
          deserializeMessage(line);
        } catch (error) {
          if (!isCleanRpcError(error)) {
            throw new FuzzFailure(
              `deserializeMessage threw ${(error as Error).message}`,
              { cause: error },
            );
          }
        }
      }
    },
  }),
};

/** A `{"anyOf": [...]}` chain `depth` deep, built without recursion. */
function deepAnyOf(depth: number): Json {
  let schema: Json = { type: "string" };
  for (let i = 0; i < depth; i++) {
    schema = { anyOf: [{ type: "null" }, schema] };
  }
  return schema;
}

const deepTexts = new Map<number, string>();

/** The JSON text of {@linkcode deepAnyOf}, made once per depth. */
function deepAnyOfText(depth: number): string {
  let text = deepTexts.get(depth);
  if (text === undefined) {
    text = '{"anyOf": [{"type": "null"}, '.repeat(depth) +
      '{"type": "string"}' + "]}".repeat(depth);
    deepTexts.set(depth, text);
  }
  return text;
}

const TOOL_LISTS: readonly Json[] = [
  {
    tools: [
      {
        name: "echo",
        description: "Echoes back",
        inputSchema: {
          type: "object",
          properties: { message: { type: "string" } },
          required: ["message"],
        },
      },
      {
        name: "get_Sum",
        inputSchema: {
          type: "object",
          properties: {
            a: { type: ["null", "number"] },
            b: { anyOf: [{ type: "null" }, { type: "integer" }] },
            c: { oneOf: [{ $ref: "#/x" }] },
          },
          required: ["a", "zzz", 3],
        },
      },
      { name: "x".repeat(70), inputSchema: { type: "object" } },
    ],
    nextCursor: "page-2",
  },
  {
    tools: [{
      name: "deep",
      inputSchema: { type: "object", properties: { x: deepAnyOf(60) } },
    }],
  },
];

const toolList: FuzzTarget = {
  name: "mcp.tool-list",
  about:
    "tools/list results through the SDK's schema and toolSkill: never throw; a skill's sheet builds or is refused with RangeError",
  input: () =>
    whole(fc.oneof(
      {
        weight: 25,
        arbitrary: mutatedJson(TOOL_LISTS, {
          keys: [
            "name",
            "description",
            "inputSchema",
            "properties",
            "required",
            "type",
            "anyOf",
            "oneOf",
          ],
        }).map((v) => utf8(jsonText(v))),
      },
      {
        weight: 10,
        arbitrary: mutatedBytes(TOOL_LISTS.map((v) => utf8(jsonText(v)))),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(1_000, 30_000).map((depth) =>
          utf8(
            `{"tools": [{"name": "deep", "inputSchema": {"type": "object", "properties": {"x": ${
              deepAnyOfText(depth)
            }}}}]}`,
          )
        ),
      },
    )),
  quickRuns: 300,
  open: () => ({
    check({ data }) {
      let raw: unknown;
      try {
        raw = JSON.parse(text(data));
      } catch {
        return;
      }
      const parsed = ListToolsResultSchema.safeParse(raw);
      if (!parsed.success) return;
      for (const tool of parsed.data.tools as McpTool[]) {
        const skill = attempt(() => toolSkill(tool), [], "toolSkill");
        if (!skill) continue;
        attempt(
          () => buildSheet(skill.sheet),
          [RangeError],
          "buildSheet of a tool's sheet",
        );
      }
    },
  }),
};

const RESULTS: readonly Json[] = [
  { content: [{ type: "text", text: "hello" }] },
  {
    content: [{ type: "text", text: "a" }, {
      type: "image",
      data: "aGVsbG8=",
      mimeType: "image/png",
    }, { type: "audio", data: "", mimeType: "audio/wav" }],
  },
  {
    content: [{
      type: "resource",
      resource: {
        uri: "file:///x",
        blob: "AAEC",
        mimeType: "application/octet-stream",
      },
    }, { type: "resource", resource: { uri: "file:///y", text: "t" } }],
  },
  {
    content: [{ type: "resource_link", uri: "file:///z", name: "z" }],
    isError: false,
    _meta: { a: 1 },
  },
  { content: [{ type: "text", text: "failed" }], isError: true },
  { content: [], structuredContent: { n: 1 } },
];

const callResult: FuzzTarget = {
  name: "mcp.call-result",
  about:
    "McpBridge.call() against a real child answering with fuzzed results in split writes: never rejects, answers every call",
  quickRuns: 60,
  longRunShare: 0.25,
  input: () =>
    streamed(
      fc.oneof(
        {
          weight: 600,
          arbitrary: mutatedJson(RESULTS, {
            keys: [
              "content",
              "type",
              "text",
              "data",
              "blob",
              "resource",
              "isError",
              "_meta",
              "mimeType",
            ],
          }).map((v) => utf8(jsonText(v))),
        },
        {
          weight: 240,
          arbitrary: mutatedBytes(RESULTS.map((v) => utf8(jsonText(v)))),
        },
        {
          weight: 120,
          arbitrary: hostileJson().map((v) =>
            utf8(
              jsonText({
                content: [{
                  type: "image",
                  data: "AA==",
                  mimeType: "x",
                  _meta: v,
                }],
              }),
            )
          ),
        },
        {
          // JSON.stringify gives up between 50,000 and 100,000 levels.
          weight: 1,
          arbitrary: fc.constantFrom(1_000, 120_000).map((depth) =>
            utf8(
              `{"content": [{"type": "resource_link", "uri": "a:b", "name": "n", "_meta": {"x": ${
                deepAnyOfText(depth)
              }}}]}`,
            )
          ),
        },
      ),
      6,
      // A child's line may be up to 64 MiB: the deep result above is 3.7 MB.
      16 * 1024 * 1024,
    ),
  async open() {
    const script =
      new URL("../mcp_reflect_server.ts", import.meta.url).pathname;
    const stored: Uint8Array[] = [];
    const bridge = await McpBridge.start(
      `'${Deno.execPath()}' run --quiet '${script}'`,
      {
        timeoutMs: 10_000,
        storeAsset: (bytes) => {
          stored.push(bytes);
          return Promise.resolve("0".repeat(64));
        },
      },
    );
    return {
      async check({ data, cuts }) {
        const pid = bridge.pid;
        const outcome = await attemptAsync(
          () => bridge.call("reflect", { reply: encodeBase64(data), cuts }),
          [],
          "McpBridge.call()",
        );
        ensure(outcome !== undefined, "no outcome");
        ensure(
          outcome.status !== "timeout",
          "the call timed out: the bridge lost the answer",
        );
        ensure(bridge.pid === pid, "the MCP server was restarted");
        if (outcome.status === "ok") {
          ensure(
            typeof outcome.output.content === "string",
            "an ok outcome without text content",
          );
          JSON.stringify(outcome.output);
        }
        stored.length = 0;
      },
      close: () => bridge.close(),
    };
  },
};

/** The MCP layer's targets. */
export const MCP_TARGETS: readonly FuzzTarget[] = [lines, toolList, callResult];
