/** Unmet demand: queries that found no provider, for `knarr info` and skill authors. */
import type { DiscoveryContext } from "./_context.ts";

/** Records a zero-result query; a failing store is logged, never thrown. */
export function recordDemand(
  ctx: Pick<DiscoveryContext, "deps" | "log">,
  queryType: string,
  value: string,
): void {
  try {
    ctx.deps.demand?.record(
      queryType,
      value.trim().toLowerCase(),
      ctx.deps.clock.now(),
    );
  } catch (error) {
    ctx.log.warn(
      `Cannot record demand for "${value}": ${(error as Error).message}`,
    );
  }
}
