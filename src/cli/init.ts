/** `knarr init <dir>`: scaffold a provider project. */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatHostPort, parseHostPort } from "../config/mod.ts";
import type { Command } from "./command.ts";
import { intFlag, stringFlag, UsageError } from "./command.ts";

const ECHO_SKILL = `/**
 * Example knarr skill: echoes the input text back.
 *
 * A skill is a module exporting \`async function handle(input, ctx)\` that returns a JSON
 * object. It runs in a sandboxed Worker with only the \`net\` and \`read\` permissions
 * its [skills.<name>] section in knarr.toml declares.
 */
export async function handle(
  input: Record<string, unknown>,
  _ctx?: unknown,
): Promise<Record<string, unknown>> {
  return { text: String(input.text ?? "") };
}
`;

function configText(port: number, bootstrap: string[]): string {
  return `# knarr node configuration. Every key and its default: see the knarr README.

[node]
port = ${port}
host = "0.0.0.0"
storage = "node.db"

[network]
bootstrap = [${bootstrap.map((b) => JSON.stringify(b)).join(", ")}]

[skills.echo]
handler = "skills/echo.ts:handle"
description = "Echoes input text back"
tags = ["example"]
version = "1.0.0"
uri = "knarr:///tools/dev/echo@1.0"
input_schema = { text = "string" }
output_schema = { text = "string" }
visibility = "public"
`;
}

/** The init subcommand. */
export const initCommand: Command = {
  name: "init",
  summary: "Create a new provider project with an example skill",
  usage: "knarr init <dir> [--port 9000] [--bootstrap host:port,...]",
  maxPositionals: 1,
  flags: {
    port: {
      type: "string",
      description: "Port written to knarr.toml",
      valueName: "port",
      defaultText: "9000",
    },
    bootstrap: {
      type: "string",
      description: "Bootstrap peers written to knarr.toml",
      valueName: "host:port,...",
    },
  },
  run(ctx) {
    const dir = ctx.positionals[0];
    if (dir === undefined || dir.trim() === "") {
      throw new UsageError(
        "Missing project directory, as in `knarr init my-provider`",
      );
    }
    const port = intFlag(ctx, "port", 1, 65535) ?? 9000;
    const bootstrap = (stringFlag(ctx, "bootstrap") ?? "").split(",").map((s) =>
      s.trim()
    ).filter(Boolean)
      .map((entry) => {
        try {
          return formatHostPort(parseHostPort(entry));
        } catch {
          throw new UsageError(
            `Invalid --bootstrap "${entry}": expected host:port`,
          );
        }
      });
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") {
        throw new Error(
          `Cannot create project in "${dir}": ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    if (entries.length > 0) {
      throw new Error(
        `Cannot create project in "${dir}": directory is not empty; choose a new directory`,
      );
    }
    mkdirSync(join(dir, "skills"), { recursive: true });
    writeFileSync(join(dir, "knarr.toml"), configText(port, bootstrap), {
      flag: "wx",
    });
    writeFileSync(join(dir, "skills", "echo.ts"), ECHO_SKILL, { flag: "wx" });
    const shown = dir.endsWith("/") ? dir : `${dir}/`;
    ctx.out.print(`Created project in ${shown}`);
    ctx.out.print("  knarr.toml        Node configuration");
    ctx.out.print("  skills/echo.ts    Example skill handler");
    ctx.out.print("To start your node:");
    ctx.out.print(`  cd ${dir.replace(/\/+$/, "")}`);
    ctx.out.print("  knarr serve");
    return Promise.resolve(0);
  },
};
