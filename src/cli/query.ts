/** `knarr query`: find skills on the network. */
import { parseHostPort } from "../config/mod.ts";
import type { HostPort } from "../config/mod.ts";
import { plainJson } from "../discovery/mod.ts";
import type { LookupStep, QueryResult, QuerySpec } from "../discovery/mod.ts";
import { localAddressToward } from "../net/mod.ts";
import { KnarrNode } from "../node/mod.ts";
import { Logger } from "../util/mod.ts";
import type { Command, CommandContext } from "./command.ts";
import { intFlag, secondsFlag, stringFlag, UsageError } from "./command.ts";
import { LOG_LEVEL_FLAG, logLevelFlag } from "./flags.ts";
import { formatTable } from "./output.ts";

/** Reads the required `--bootstrap host:port`. */
export function bootstrapFlag(ctx: CommandContext): HostPort {
  const value = stringFlag(ctx, "bootstrap");
  if (value === undefined) {
    throw new UsageError(
      "Missing --bootstrap host:port (a node of the network to ask)",
    );
  }
  try {
    return parseHostPort(value);
  } catch {
    throw new UsageError(`Invalid --bootstrap "${value}": expected host:port`);
  }
}

/**
 * A client node: in-memory store and a fresh identity unless `options.storage` names a
 * database (whose identity then keeps its credits), listening for pushed results,
 * joined ephemerally.
 */
export async function oneShotNode(
  ctx: CommandContext,
  bootstrap: HostPort,
  timeoutMs: number,
  options: { storage?: string } = {},
): Promise<KnarrNode> {
  const logger = new Logger({ level: logLevelFlag(ctx, "warn") });
  const node = await KnarrNode.create({
    storage: options.storage ?? ":memory:",
    host: "0.0.0.0",
    port: intFlag(ctx, "port", 0, 65535) ?? 0,
    logger,
    discovery: { queryTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs },
  });
  try {
    await node.start({ maintenance: false });
    const where = `${bootstrap.host}:${bootstrap.port}`;
    const local = await localAddressToward(bootstrap.host, bootstrap.port, {
      timeoutMs,
    }).catch((error) => {
      const reason = String((error as Error).message).replace(
        /^Cannot connect to "[^"]*": /,
        "",
      );
      throw new Error(`Cannot reach bootstrap "${where}": ${reason}`, {
        cause: error,
      });
    });
    node.setAdvertiseHost(local);
    const joined = await node.join([bootstrap], {
      ephemeral: true,
      signal: ctx.signal,
    });
    if (!joined.via) {
      throw new Error(
        `Cannot reach bootstrap "${where}": ${joined.errors[0] ?? "no answer"}`,
      );
    }
    return node;
  } catch (error) {
    await node.close();
    throw error;
  }
}

/** The query subcommand. */
export const queryCommand: Command = {
  name: "query",
  summary: "Find skills on the network by name or tag",
  usage:
    "knarr query --bootstrap host:port (--name NAME | --tag TAG) [--timeout 5] [--json] [--trace]",
  flags: {
    bootstrap: {
      type: "string",
      description: "A node of the network to ask (required)",
      valueName: "host:port",
    },
    name: {
      type: "string",
      description: "Exact skill name",
      valueName: "name",
    },
    tag: { type: "string", description: "Skill tag", valueName: "tag" },
    port: {
      type: "string",
      description: "Local port for replies (0 = any)",
      valueName: "port",
      defaultText: "0",
    },
    timeout: {
      type: "string",
      description: "Seconds to wait for answers",
      valueName: "seconds",
      defaultText: "5",
    },
    json: { type: "boolean", description: "Print the results as JSON" },
    trace: {
      type: "boolean",
      description:
        "Print each DHT lookup request to stderr (who, what, latency)",
    },
    "log-level": LOG_LEVEL_FLAG,
  },
  async run(ctx) {
    const bootstrap = bootstrapFlag(ctx);
    const name = stringFlag(ctx, "name");
    const tag = stringFlag(ctx, "tag");
    if ((name === undefined) === (tag === undefined)) {
      throw new UsageError("Give exactly one of --name NAME or --tag TAG");
    }
    const spec: QuerySpec = name !== undefined ? { name } : { tag: tag! };
    const timeoutMs = (secondsFlag(ctx, "timeout") ?? 5) * 1000;
    intFlag(ctx, "port", 0, 65535);
    logLevelFlag(ctx);
    await using node = await oneShotNode(ctx, bootstrap, timeoutMs);
    const results = await node.query(spec, {
      timeoutMs,
      signal: ctx.signal,
      ...(ctx.values.trace
        ? { onStep: (s: LookupStep) => ctx.out.error(traceLine(s)) }
        : {}),
    });
    if (ctx.values.trace) ctx.out.error(traceSummary(node));
    if (ctx.values.json) {
      ctx.out.json(results.map((r) => plainJson(r as never)));
      return 0;
    }
    if (results.length === 0) {
      ctx.out.print("No skills found.");
      return 0;
    }
    for (const line of resultTable(results)) ctx.out.print(line);
    return 0;
  },
};

/** The seed's table: SKILL, PROVIDER (16 chars + ...), HOST, DESCRIPTION (40 chars). */
export function resultTable(results: readonly QueryResult[]): string[] {
  return formatTable(
    ["SKILL", "PROVIDER", "HOST", "DESCRIPTION"],
    results.map((r) => [
      String(r.skill_sheet.name ?? ""),
      `${r.node_id.slice(0, 16)}...`,
      `${r.host}:${r.port}`,
      String(r.skill_sheet.description ?? "").slice(0, 40),
    ]),
  );
}

/** One `--trace` line: round, path, who was asked, what came back, latency. */
export function traceLine(s: LookupStep): string {
  const what = s.outcome === "timeout"
    ? "no answer"
    : `${s.providers} providers, ${s.peers} peers`;
  return `trace: round ${s.round} path ${s.path}: ${
    s.nodeId.slice(0, 16)
  }... at ${s.host}:${s.port}: ${what} (${s.latencyMs} ms)`;
}

/** The `--trace` summary: the DHT's counters and whether the query fell back. */
export function traceSummary(node: KnarrNode): string {
  const k = node.stats.kademlia;
  const d = node.stats.dht;
  return `trace: ${k?.lookups ?? 0} lookups, ${k?.rounds ?? 0} rounds, ${
    k?.requestsSent ?? 0
  } requests, ${k?.timeouts ?? 0} timeouts; ${
    d?.dhtAnswered ? "answered by the DHT" : "fell back to the query path"
  }`;
}
