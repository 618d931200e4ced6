/** `knarr request`: run a task on the best provider of a skill. */
import { join } from "node:path";
import { plainJson } from "../discovery/mod.ts";
import { isJsonObject, parseJson } from "../wire/mod.ts";
import type { JsonObject, JsonValue } from "../wire/mod.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag, secondsFlag, stringFlag, UsageError } from "./command.ts";
import { LOG_LEVEL_FLAG, logLevelFlag } from "./flags.ts";
import { bootstrapFlag, oneShotNode } from "./query.ts";
import { downloadOutputs, inputFiles, uploadingInput } from "./transfer.ts";

/** Parses `--input`: a JSON object (its `@path` values name files to upload). */
export function inputFlag(ctx: CommandContext): JsonObject {
  const text = stringFlag(ctx, "input") ?? "{}";
  let value: JsonValue;
  try {
    value = parseJson(text);
  } catch {
    throw new UsageError("Invalid --input: must be a JSON object");
  }
  if (!isJsonObject(value)) {
    throw new UsageError("Invalid --input: must be a JSON object");
  }
  return value;
}

function show(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(plainJson(value));
}

/** The request subcommand. */
export const requestCommand: Command = {
  name: "request",
  summary: "Run a task on the network's best provider of a skill",
  usage:
    "knarr request --skill NAME --input JSON --bootstrap host:port [--output-dir DIR] [--timeout 30] [--json]",
  flags: {
    skill: {
      type: "string",
      description: "Skill name (required)",
      valueName: "name",
    },
    input: {
      type: "string",
      description:
        'Input JSON object; a top-level value "@path" uploads that file to the provider\'s sidecar and sends knarr-asset://<sha256>',
      valueName: "json",
      defaultText: "{}",
    },
    bootstrap: {
      type: "string",
      description: "A node of the network to ask (required)",
      valueName: "host:port",
    },
    port: {
      type: "string",
      description: "Local port for pushed results (0 = any)",
      valueName: "port",
      defaultText: "0",
    },
    timeout: {
      type: "string",
      description: "Seconds to wait for the result",
      valueName: "seconds",
      defaultText: "30",
    },
    "output-dir": {
      type: "string",
      description:
        "Download every knarr-asset:// output into <dir> and save the result as <dir>/<task_id>.json",
      valueName: "dir",
    },
    json: { type: "boolean", description: "Print the whole result as JSON" },
    "log-level": LOG_LEVEL_FLAG,
  },
  async run(ctx) {
    const skill = stringFlag(ctx, "skill");
    if (!skill) throw new UsageError("Missing --skill NAME");
    const input = inputFlag(ctx);
    const files = inputFiles(input);
    const bootstrap = bootstrapFlag(ctx);
    const timeoutMs = (secondsFlag(ctx, "timeout") ?? 30) * 1000;
    intFlag(ctx, "port", 0, 65535);
    logLevelFlag(ctx);
    await using node = await oneShotNode(
      ctx,
      bootstrap,
      Math.min(timeoutMs, 5000),
    );
    const progress = !ctx.values.json;
    const outcome = await node.request(skill, input, {
      timeoutMs,
      signal: ctx.signal,
      ...(files.size > 0
        ? {
          prepareInput: uploadingInput(node, input, files, ctx.out, {
            progress,
          }),
        }
        : {}),
    });
    const result: Record<string, unknown> = {
      task_id: outcome.task_id,
      status: outcome.status,
      output_data: plainJson(outcome.output_data),
      error: plainJson(outcome.error),
    };
    const outputDir = stringFlag(ctx, "output-dir");
    let downloaded: Awaited<ReturnType<typeof downloadOutputs>> = [];
    if (outputDir !== undefined) {
      Deno.mkdirSync(outputDir, { recursive: true });
      if (outcome.status === "completed" && outcome.provider) {
        downloaded = await downloadOutputs(
          node,
          outcome.provider,
          outcome.output_data,
          outputDir,
          ctx.out,
          { progress, signal: ctx.signal },
        );
        if (ctx.values.json) result.downloaded = downloaded;
      }
      Deno.writeTextFileSync(
        join(outputDir, `${outcome.task_id}.json`),
        JSON.stringify(result, null, 2) + "\n",
      );
    }
    if (ctx.values.json) {
      ctx.out.json(result);
    } else if (outcome.status === "completed") {
      ctx.out.print("Status: completed");
      ctx.out.print("Output:");
      for (const [k, v] of Object.entries(outcome.output_data)) {
        ctx.out.print(`  ${k}: ${show(v)}`);
      }
      for (const d of downloaded) {
        ctx.out.print(`Downloaded: ${d.key} -> ${d.path} (${d.bytes} bytes)`);
      }
    } else {
      ctx.out.print("Status: failed");
      ctx.out.print(
        `Error: ${show(outcome.error.code ?? "UNKNOWN")} — ${
          show(outcome.error.message ?? "")
        }`,
      );
    }
    return outcome.status === "completed" ? 0 : 1;
  },
};
