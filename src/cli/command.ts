/** The shape every subcommand shares, and help text built from it. */
import type { Output } from "./output.ts";

/** One flag of a subcommand. */
export interface FlagSpec {
  type: "string" | "boolean";
  /** One-line description shown by --help. */
  description: string;
  /** Placeholder shown in help, e.g. "host:port". */
  valueName?: string;
  /** Repeatable flag (values collected in order). */
  multiple?: boolean;
  /** Default shown in help and applied by the command itself. */
  defaultText?: string;
}

/** What a command receives after parsing. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  out: Output;
  /** Aborted on SIGINT/SIGTERM for long-running commands. */
  signal: AbortSignal;
}

/** A `knarr <name>` subcommand. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line after "Usage: ". */
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Maximum number of positional arguments (default 0). */
  maxPositionals?: number;
  run(ctx: CommandContext): Promise<number>;
}

/** A mistake in how the command was invoked: exit code 2 with usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Full --help text of a command. */
export function helpText(command: Command): string {
  const lines = [
    `knarr ${command.name}: ${command.summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    "Options:",
  ];
  const entries = Object.entries(command.flags).map(([name, spec]) => {
    const left = `  --${name}${
      spec.type === "string" ? ` <${spec.valueName ?? "value"}>` : ""
    }`;
    const right = spec.description +
      (spec.defaultText ? ` (default: ${spec.defaultText})` : "") +
      (spec.multiple ? " [repeatable]" : "");
    return [left, right] as const;
  });
  entries.push(["  -h, --help", "Show this help"]);
  const width = Math.max(...entries.map(([l]) => l.length));
  for (const [left, right] of entries) {
    lines.push(`${left.padEnd(width)}  ${right}`);
  }
  return lines.join("\n");
}

/** Reads a string flag, or undefined. */
export function stringFlag(
  ctx: CommandContext,
  name: string,
): string | undefined {
  const v = ctx.values[name];
  return typeof v === "string" ? v : undefined;
}

/** Reads a non-negative integer flag within a range, or undefined; UsageError otherwise. */
export function intFlag(
  ctx: CommandContext,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = stringFlag(ctx, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(
      `Invalid --${name} "${v}": must be an integer from ${min} to ${max}`,
    );
  }
  return Number(v);
}

/** Reads a positive number flag (seconds), or undefined; UsageError otherwise. */
export function secondsFlag(
  ctx: CommandContext,
  name: string,
): number | undefined {
  const v = stringFlag(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `Invalid --${name} "${v}": must be a positive number of seconds`,
    );
  }
  return n;
}
