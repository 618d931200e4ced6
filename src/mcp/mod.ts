/**
 * The MCP layer: MCP servers' tools served as knarr skills over stdio.
 *
 * @module
 */
export { McpBridge } from "./mcp_bridge.ts";
export type {
  BridgeEvent,
  BridgeOutcome,
  McpBridgeOptions,
} from "./mcp_bridge.ts";
export { toolSkill } from "./tool_skill.ts";
export type { McpTool, ToolSkill, ToolSkillOptions } from "./tool_skill.ts";
export { splitCommand } from "./_child_transport.ts";
export { serveTools } from "./tool_server.ts";
export type {
  ServedTool,
  ServeToolsOptions,
  ToolContent,
  ToolResult,
} from "./tool_server.ts";
