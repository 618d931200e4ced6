/** Flags shared by several commands. */
import { LOG_FORMATS, LOG_LEVELS } from "../util/mod.ts";
import type { LogFormat, LogLevel } from "../util/mod.ts";
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

/** `--log-format`. */
export const LOG_FORMAT_FLAG: FlagSpec = {
  type: "string",
  description:
    "Log records as human lines, or json: one object a line with time, level, component, message and fields",
  valueName: "human|json",
  defaultText: "human",
};

/** Reads and checks `--log-format`. */
export function logFormatFlag(ctx: CommandContext): LogFormat {
  const v = stringFlag(ctx, "log-format");
  if (v === undefined) return "human";
  if (!(LOG_FORMATS as readonly string[]).includes(v)) {
    throw new UsageError(
      `Invalid --log-format "${v}": must be one of ${LOG_FORMATS.join(", ")}`,
    );
  }
  return v as LogFormat;
}
