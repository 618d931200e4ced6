/**
 * `knarr mcp`: the knarr network offered to an MCP host as tools, on stdio. Stdout is
 * the MCP channel (written by the SDK's transport), so this command prints nothing
 * itself; logs go to stderr.
 */
import { mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { assetRefHash } from "../assets/mod.ts";
import { plainJson } from "../discovery/mod.ts";
import type { QueryResult } from "../discovery/mod.ts";
import type { ServedTool, ToolContent, ToolResult } from "../mcp/mod.ts";
import type { KnarrNode } from "../node/mod.ts";
import { DemandRepo } from "../store/mod.ts";
import { reputation } from "../tasks/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import type { Command } from "./command.ts";
import { secondsFlag, stringFlag } from "./command.ts";
import { LOG_LEVEL_FLAG } from "./flags.ts";
import { bootstrapFlag, oneShotNode } from "./query.ts";

/** Asset outputs up to this size come back inline; larger ones as a saved file's path. */
const INLINE_ASSET_BYTES = 1024 * 1024;
const REFRESH_MS = 60_000;

/** The mcp subcommand. */
export const mcpCommand: Command = {
  name: "mcp",
  summary:
    "Serve the knarr network to an MCP host (stdio): query, request, demand",
  usage:
    "knarr mcp --bootstrap host:port [--storage path] [--expose-skills [--refresh 60]]",
  flags: {
    bootstrap: {
      type: "string",
      description: "A node of the network to join (required)",
      valueName: "host:port",
    },
    storage: {
      type: "string",
      description:
        "SQLite file keeping this client's identity, credits and history",
      valueName: "path",
      defaultText: "~/.knarr/mcp.db",
    },
    "expose-skills": {
      type: "boolean",
      description: "Also list every skill of the network as its own MCP tool",
    },
    refresh: {
      type: "string",
      description:
        "With --expose-skills: seconds between checks for new or gone skills",
      valueName: "seconds",
      defaultText: "60",
    },
    "log-level": LOG_LEVEL_FLAG,
  },
  async run(ctx) {
    const bootstrap = bootstrapFlag(ctx);
    const storage = stringFlag(ctx, "storage") ?? defaultStorage();
    await using node = await oneShotNode(ctx, bootstrap, 5_000, { storage });
    const downloads = join(
      storage === ":memory:" ? Deno.cwd() : dirname(storage),
      "downloads",
    );
    const base = baseTools(node, downloads);
    const expose = ctx.values["expose-skills"] === true;
    const refreshMs = (secondsFlag(ctx, "refresh") ?? REFRESH_MS / 1000) * 1000;
    // Loaded here, not at the top: every other command would pay for the SDK.
    const { serveTools } = await import("../mcp/mod.ts");
    await serveTools(
      async () =>
        expose ? [...base, ...await skillTools(node, downloads)] : base,
      {
        name: "knarr",
        version: "0.1.0",
        ...(expose ? { refreshMs } : {}),
        signal: ctx.signal,
      },
    );
    return 0;
  },
};

function defaultStorage(): string {
  const dir = join(homedir(), ".knarr");
  mkdirSync(dir, { recursive: true });
  return join(dir, "mcp.db");
}

function text(value: unknown): ToolContent {
  return {
    type: "text",
    text: typeof value === "string" ? value : JSON.stringify(value, null, 2),
  };
}

function baseTools(node: KnarrNode, downloads: string): ServedTool[] {
  return [
    {
      name: "knarr_query",
      description:
        "Find skills on the knarr network by name or tag; lists providers with input schema, price and reputation",
      inputSchema: {
        type: "object",
        properties: {
          name: { type: "string", description: "Exact skill name" },
          tag: { type: "string", description: "A tag the skill carries" },
        },
      },
      async call(args) {
        const spec = typeof args.name === "string"
          ? { name: args.name }
          : typeof args.tag === "string"
          ? { tag: args.tag }
          : { all: true as const };
        const results = await node.query(spec);
        const history = new Map(
          reputation(node.tasks, Date.now() / 1000).map((
            h,
          ) => [h.providerNodeId, h]),
        );
        return {
          content: [
            text(results.map((r) => describe(r, history.get(r.node_id)))),
          ],
        };
      },
    },
    {
      name: "knarr_request",
      description:
        "Run a skill on the best provider (or the one given) and return its output; asset outputs come back as content when small, as saved files otherwise",
      inputSchema: {
        type: "object",
        properties: {
          skill: { type: "string" },
          input: { type: "object" },
          provider: {
            type: "string",
            description: "Node id (or a prefix) of the provider to use",
          },
        },
        required: ["skill"],
      },
      call: (args, signal) =>
        request(node, String(args.skill), (args.input ?? {}) as JsonObject, {
          downloads,
          signal,
          ...(typeof args.provider === "string"
            ? { provider: args.provider }
            : {}),
        }),
    },
    {
      name: "knarr_demand",
      description:
        "Queries this client made that found no skill, most frequent first",
      inputSchema: { type: "object", properties: {} },
      call: () =>
        Promise.resolve({ content: [text(new DemandRepo(node.db).list())] }),
    },
  ];
}

/** With --expose-skills: every skill on the network as its own tool. */
async function skillTools(
  node: KnarrNode,
  downloads: string,
): Promise<ServedTool[]> {
  const seen = new Map<string, QueryResult>();
  for (const r of await node.query({ all: true })) {
    const name = String(r.skill_sheet.name ?? "");
    if (/^[a-z0-9-]{1,64}$/.test(name) && !seen.has(name)) seen.set(name, r);
  }
  return [...seen.entries()].map(([name, r]) => ({
    name,
    description: String(r.skill_sheet.description ?? `knarr skill ${name}`),
    inputSchema: jsonSchemaOf(r.skill_sheet.input_schema),
    call: (args, signal) =>
      request(node, name, args as JsonObject, { downloads, signal }),
  }));
}

/** A flat `{field: type}` sheet schema as JSON Schema. */
function jsonSchemaOf(schema: unknown): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  let required: string[] = [];
  if (schema && typeof schema === "object") {
    for (const [k, v] of Object.entries(schema)) {
      if (k === "_required") continue;
      const type = String(v);
      properties[k] =
        ["string", "number", "integer", "boolean", "object", "array"].includes(
            type,
          )
          ? { type }
          : {};
    }
    const listed = (schema as { _required?: unknown })._required;
    required = Array.isArray(listed)
      ? listed.filter((x): x is string => typeof x === "string")
      : Object.keys(properties);
  }
  return { type: "object", properties, required };
}

function describe(
  r: QueryResult,
  history: ReturnType<typeof reputation>[number] | undefined,
) {
  const sheet = r.skill_sheet;
  return {
    skill: sheet.name,
    provider: r.node_id,
    host: `${r.host}:${r.port}`,
    description: sheet.description,
    price: plainJson(sheet.price ?? 1),
    input_schema: plainJson(sheet.input_schema ?? {}),
    output_schema: plainJson(sheet.output_schema ?? {}),
    reputation: history
      ? {
        tasks: history.total,
        success_rate: history.successRate,
        avg_ms: history.avgWallMs,
      }
      : null,
  };
}

async function request(
  node: KnarrNode,
  skill: string,
  input: JsonObject,
  options: { downloads: string; signal: AbortSignal; provider?: string },
): Promise<ToolResult> {
  let providers = await node.query({ name: skill });
  if (options.provider !== undefined) {
    providers = providers.filter((p) =>
      p.node_id.startsWith(options.provider!)
    );
  }
  const outcome = await node.consumer.request(skill, input, providers, {
    signal: options.signal,
  });
  if (outcome.status !== "completed") {
    return {
      content: [
        text(
          `${String(outcome.error.code ?? "FAILED")}: ${
            String(outcome.error.message ?? "")
          }`,
        ),
      ],
      isError: true,
    };
  }
  const content: ToolContent[] = [text(plainJson(outcome.output_data))];
  const provider = outcome.provider;
  for (const [key, value] of Object.entries(outcome.output_data)) {
    const hash = assetRefHash(value);
    if (hash === null || !provider || provider.sidecar_port <= 0) continue;
    mkdirSync(options.downloads, { recursive: true });
    const path = join(
      options.downloads,
      `${key.replace(/[^A-Za-z0-9_.-]/g, "_")}_${hash.slice(0, 12)}`,
    );
    const saved = await node.downloadAsset(provider, hash, path, {
      signal: options.signal,
    });
    if (saved.size > INLINE_ASSET_BYTES) {
      content.push(text(`${key}: saved to ${path} (${saved.size} bytes)`));
      continue;
    }
    const bytes = await Deno.readFile(path);
    const mimeType = sniff(bytes);
    const data = base64(bytes);
    content.push(
      mimeType.startsWith("image/") ? { type: "image", data, mimeType } : {
        type: "resource",
        resource: { uri: `knarr-asset://${hash}`, mimeType, blob: data },
      },
    );
  }
  return { content };
}

function sniff(bytes: Uint8Array): string {
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (starts(0x25, 0x50, 0x44, 0x46)) return "application/pdf";
  return "application/octet-stream";
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
