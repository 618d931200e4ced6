/** `knarr <command> [flags]`: dispatch, flag parsing, and turning errors into exit codes. */
import { parseArgs } from "node:util";
import { helpText, UsageError } from "./command.ts";
import type { Command, CommandContext } from "./command.ts";
import { processOutput } from "./output.ts";
import type { Output } from "./output.ts";
import { COMMANDS } from "./commands.ts";
import { VERSION } from "./version.ts";

export { VERSION };

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "knarr: trade work between autonomous agents over a peer-to-peer network",
    "",
    "Usage: knarr <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `knarr <command> --help` for the options of a command.",
  ].join("\n");
}

/** Options for {@linkcode main}. */
export interface MainOptions {
  /** Where output goes (default: the process streams). */
  out?: Output;
  /** Aborts long-running commands (default: SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 runtime error, 2 usage error). */
export async function main(
  args: string[],
  options: MainOptions = {},
): Promise<number> {
  const out = options.out ?? processOutput();
  const [name, ...rest] = args;
  if (
    name === undefined || name === "--help" || name === "-h" || name === "help"
  ) {
    out.print(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    out.print(`knarr ${VERSION}`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    out.error(
      `error: Unknown command "${name}"; run \`knarr --help\` for the list of commands`,
    );
    return 2;
  }
  const debug = rest.some((a, i) =>
    (a === "--log-level=debug") ||
    (a === "--log-level" && rest[i + 1] === "debug")
  );
  try {
    const ctx = parse(command, rest, out, options.signal);
    if (ctx === "help") {
      out.print(helpText(command));
      return 0;
    }
    if (options.signal) return await command.run(ctx);
    return await withSignals((signal) => command.run({ ...ctx, signal }));
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`error: ${error.message}`);
      out.error(`Usage: ${command.usage}`);
      out.error(`Run \`knarr ${command.name} --help\` for details.`);
      return 2;
    }
    out.error(`error: ${describe(error)}`);
    if (debug) out.error(causeChain(error));
    return 1;
  }
}

function parse(
  command: Command,
  args: string[],
  out: Output,
  signal?: AbortSignal,
): CommandContext | "help" {
  if (args.includes("--help") || args.includes("-h")) return "help";
  const optionSpec: Record<
    string,
    { type: "string" | "boolean"; multiple?: boolean }
  > = {};
  for (const [flag, spec] of Object.entries(command.flags)) {
    optionSpec[flag] = spec.multiple
      ? { type: spec.type, multiple: true }
      : { type: spec.type };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: optionSpec,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(
      ((error as Error).message ?? String(error)).split("\n")[0]!.replace(
        /\. To specify.*$/,
        "",
      ),
    );
  }
  const max = command.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(`Unexpected argument "${parsed.positionals[max]}"`);
  }
  return {
    values: parsed.values as CommandContext["values"],
    positionals: parsed.positionals,
    out,
    signal: signal ?? new AbortController().signal,
  };
}

async function withSignals<T>(
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error("Interrupted"));
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0]!;
  return String(error);
}

function causeChain(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    lines.push(
      current instanceof Error
        ? (current.stack ?? `${current.name}: ${current.message}`)
        : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push("caused by:");
  }
  return lines.join("\n");
}
