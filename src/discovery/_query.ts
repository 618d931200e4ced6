/** Outbound QUERY: finding skills locally, then in waves of peers. */
import { isHex64 } from "../util/mod.ts";
import { isJsonObject, toNumber } from "../wire/mod.ts";
import type { JsonObject, JsonValue } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { localResults } from "./_local_results.ts";
import { recordDemand } from "./_record_demand.ts";
import type {
  QueryOptions,
  QueryResult,
  QuerySpec,
} from "./discovery_types.ts";
import { rank } from "./ranking.ts";
import { sheetName, stripInternal, validateSheet } from "./skill_sheet.ts";

/** A result with what ranking needs to know about it. */
interface Candidate {
  result: QueryResult;
  load: number | null;
  announcedAt: number;
}

/**
 * `Discovery.query()`: local storage first, then QUERY waves of `queryWave` peers (most
 * recently seen first) until a wave brings results, every peer was asked, or the deadline
 * passes. Results are verified, de-duplicated by (node, name) and ranked.
 */
export async function query(
  ctx: Pick<
    DiscoveryContext,
    "deps" | "options" | "log" | "stats" | "noteContact"
  >,
  spec: QuerySpec,
  options: QueryOptions,
): Promise<QueryResult[]> {
  const d = ctx.deps;
  const [queryType, value] = "name" in spec
    ? ["name", spec.name]
    : "tag" in spec
    ? ["tag", spec.tag]
    : ["all", ""];
  const collected = new Map<string, Candidate>();
  const add = (r: QueryResult, load: number | null, announcedAt: number) => {
    const key = `${r.node_id}/${sheetName(r.skill_sheet)}`;
    if (!collected.has(key)) {
      collected.set(key, { result: r, load, announcedAt });
    }
  };
  for (const r of localResults(ctx, queryType, value)) {
    const e = d.skills.get(sheetName(r.skill_sheet), r.node_id);
    add(
      r,
      r.node_id === d.self.nodeId ? (d.load?.() ?? 0) : null,
      e?.announcedAt ?? 0,
    );
  }
  if (options.network !== false) {
    const deadline = AbortSignal.timeout(
      options.timeoutMs ?? ctx.options.queryTimeoutMs,
    );
    const signal = options.signal
      ? AbortSignal.any([options.signal, deadline])
      : deadline;
    const now = d.clock.now();
    const order = d.peers.list().sort((a, b) => b.lastSeen - a.lastSeen);
    const waveSize = ctx.options.queryWave;
    for (let i = 0; i < order.length && !signal.aborted; i += waveSize) {
      const before = collected.size;
      const wave = order.slice(i, i + waveSize);
      ctx.stats.queryMessagesSent += wave.length;
      const replies = await Promise.all(
        wave.map((p) =>
          d.messenger.request(p, "QUERY", {
            query_type: queryType,
            value,
          }, { timeoutMs: ctx.options.queryTimeoutMs, signal })
            .catch(() => null)
        ),
      );
      for (const [k, reply] of replies.entries()) {
        if (reply?.type !== "QUERY_RESPONSE") continue;
        await ctx.noteContact(reply, wave[k]!.nodeId);
        for (const raw of reply.results) {
          const parsed = parseResult(raw);
          if (
            !parsed || !matches(parsed.result.skill_sheet, queryType, value)
          ) continue;
          add(parsed.result, parsed.load, parsed.announcedAt ?? now);
        }
      }
      if (collected.size > before) break;
    }
  }
  const items = [...collected.values()];
  if (items.length === 0 && queryType !== "all") {
    recordDemand(ctx, queryType, value);
  }
  return rank(items, (x) => ({
    nodeId: x.result.node_id,
    lastSeen: x.result.node_id === d.self.nodeId
      ? d.clock.now()
      : (d.peers.get(x.result.node_id)?.lastSeen ?? 0),
    announcedAt: x.announcedAt,
    balance: d.balanceOf?.(x.result.node_id) ?? 0,
    load: x.load,
  })).map((x) => ({
    ...x.result,
    skill_sheet: stripInternal(x.result.skill_sheet),
  }));
}

/** A QUERY_RESPONSE result with its signed internals, or null when it is malformed. */
function parseResult(
  raw: JsonValue,
):
  | { result: QueryResult; load: number | null; announcedAt: number | null }
  | null {
  if (!isJsonObject(raw)) return null;
  const { node_id, host, port, skill_sheet, sidecar_port } = raw;
  if (
    !isHex64(node_id) || typeof host !== "string" || host.length === 0 ||
    host.length > 256
  ) return null;
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < 1 ||
    port > 65535
  ) return null;
  if (!isJsonObject(skill_sheet)) return null;
  const sheet = stripInternal(skill_sheet);
  if (validateSheet(sheet)) return null;
  const load = toNumber(raw._load);
  const announcedAt = toNumber(raw._announced_at);
  return {
    result: {
      node_id,
      host,
      port,
      skill_sheet: sheet,
      sidecar_port:
        typeof sidecar_port === "number" && Number.isInteger(sidecar_port)
          ? sidecar_port
          : 0,
    },
    load: load ?? null,
    announcedAt: announcedAt ?? null,
  };
}

/** Whether a peer's result really answers the query (peers are not trusted to filter). */
function matches(sheet: JsonObject, queryType: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (queryType === "name") return sheetName(sheet) === v;
  if (queryType === "tag") {
    return Array.isArray(sheet.tags) &&
      sheet.tags.some((t) => typeof t === "string" && t.toLowerCase() === v);
  }
  return true;
}
