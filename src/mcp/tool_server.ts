/** An MCP server on stdio whose tools come from a source that may change (`knarr mcp`). */
import process from "node:process";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";

/** One MCP content item of a tool result. */
export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | {
    type: "resource";
    resource: { uri: string; mimeType: string; blob: string };
  };

/** What a served tool answers. */
export interface ToolResult {
  content: ToolContent[];
  isError?: boolean;
}

/** A tool the server offers. */
export interface ServedTool {
  name: string;
  description: string;
  /** A JSON Schema of type object. */
  inputSchema: Record<string, unknown>;
  call(args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult>;
}

/** Options of {@linkcode serveTools}. */
export interface ServeToolsOptions {
  /** Server name in the MCP handshake. */
  name: string;
  /** Server version in the MCP handshake. */
  version: string;
  /** Re-list the tools this often and notify the host when they changed. Default: never. */
  refreshMs?: number;
  /** Stops serving. */
  signal?: AbortSignal;
  /** Where faults are logged (stderr: stdout is the MCP channel). */
  logger?: Logger;
}

/**
 * Serves `list()`'s tools over stdio until the host closes stdin or `signal` aborts.
 * The list is asked again on every `tools/list`; with `refreshMs`, a change seen
 * between lists is announced with `notifications/tools/list_changed`.
 */
export async function serveTools(
  list: () => Promise<ServedTool[]>,
  options: ServeToolsOptions,
): Promise<void> {
  const log = options.logger ?? SILENT_LOGGER;
  const server = new Server(
    { name: options.name, version: options.version },
    { capabilities: { tools: { listChanged: true } } },
  );
  let tools = new Map<string, ServedTool>();
  let names = "";
  const refresh = async () => {
    const fresh = await list();
    tools = new Map(fresh.map((t) => [t.name, t]));
    const now = [...tools.keys()].sort().join("\n");
    const changed = now !== names;
    names = now;
    return changed;
  };
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await refresh();
    return {
      tools: [...tools.values()].map((t) => ({
        name: t.name,
        description: t.description,
        inputSchema: t.inputSchema as { type: "object" },
      })),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (
    request: {
      params: { name: string; arguments?: Record<string, unknown> | undefined };
    },
    extra: { signal: AbortSignal },
  ) => {
    if (!tools.has(request.params.name)) await refresh();
    const tool = tools.get(request.params.name);
    if (!tool) {
      return {
        content: [{
          type: "text",
          text: `Unknown tool "${request.params.name}"`,
        }],
        isError: true,
      };
    }
    try {
      return {
        ...await tool.call(request.params.arguments ?? {}, extra.signal),
      };
    } catch (error) {
      return {
        content: [{ type: "text", text: (error as Error).message }],
        isError: true,
      };
    }
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  // The SDK's transport does not notice the host closing stdin: that ends the session.
  const onEnd = () => void transport.close();
  process.stdin.once("end", onEnd);
  const timer = options.refreshMs
    ? setInterval(() => {
      refresh().then(
        (changed) => changed && server.sendToolListChanged(),
        (error) =>
          log.warn(`Cannot refresh MCP tools: ${(error as Error).message}`),
      );
    }, options.refreshMs)
    : undefined;
  const aborted = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  try {
    await Promise.race([closed, aborted]);
  } finally {
    clearInterval(timer);
    process.stdin.off("end", onEnd);
    await server.close().catch(() => {});
  }
}
