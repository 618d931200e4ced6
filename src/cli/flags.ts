/** Flags shared by several commands. */
import { LOG_LEVELS } from "../util/mod.ts";
import type { LogLevel } from "../util/mod.ts";
import {
  type CommandContext,
  type FlagSpec,
  stringFlag,
  UsageError,
} from "./command.ts";

/** `--log-level`. */
export const LOG_LEVEL_FLAG: FlagSpec = {
  type: "string",
  description: "Log detail: debug, info, warn or error",
  valueName: "level",
  defaultText: "info",
};

/** Reads and checks `--log-level`. */
export function logLevelFlag(
  ctx: CommandContext,
  fallback: LogLevel = "info",
): LogLevel {
  const v = stringFlag(ctx, "log-level");
  if (v === undefined) return fallback;
  if (!(LOG_LEVELS as readonly string[]).includes(v)) {
    throw new UsageError(
      `Invalid --log-level "${v}": must be one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  return v as LogLevel;
}
