/** QUERY: answers from local storage only (the asker does the fan-out). */
import type { JsonValue, Query } from "../wire/mod.ts";
import type { DiscoveryContext } from "./_context.ts";
import { localResults } from "./_local_results.ts";
import { recordDemand } from "./_record_demand.ts";
import type { Reply } from "./discovery_types.ts";

/**
 * Results in one QUERY_RESPONSE at most, own skills first (the original sends every match:
 * a QUERY "all" to a node holding 10,000 skills asked it for megabytes, more than a frame
 * holds). The asker merges the answers of many peers; a name has rarely 100 providers.
 */
export const MAX_QUERY_RESULTS = 100;

/** Answers QUERY_RESPONSE with the local matches; a name or tag nobody offers is recorded as demand. */
export function handleQuery(
  ctx: Pick<DiscoveryContext, "deps" | "options" | "log" | "stats">,
  message: Query,
): Reply {
  const { query_type: queryType, value } = message;
  ctx.stats.queriesAnswered++;
  const results = localResults(ctx, queryType, value, MAX_QUERY_RESULTS);
  if (results.length === 0 && queryType !== "all") {
    recordDemand(ctx, queryType, value);
  }
  return {
    type: "QUERY_RESPONSE",
    fields: { results: results as unknown as JsonValue[] },
  };
}
