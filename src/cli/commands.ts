/** Every subcommand, in the order `knarr --help` lists them. */
import type { Command } from "./command.ts";
import { demandCommand } from "./demand.ts";
import { infoCommand } from "./info.ts";
import { initCommand } from "./init.ts";
import { mcpCommand } from "./mcp.ts";
import { queryCommand } from "./query.ts";
import { relayCommand } from "./relay.ts";
import { requestCommand } from "./request.ts";
import { serveCommand } from "./serve.ts";

/** All commands. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  serveCommand,
  queryCommand,
  requestCommand,
  demandCommand,
  infoCommand,
  relayCommand,
  mcpCommand,
];
