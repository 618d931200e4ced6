/** Reputation: per-provider history from our own consumer-side task records. */
import type { ProviderHistory, TaskRepo } from "../store/mod.ts";

/** Days of history reputation looks at. */
export const REPUTATION_WINDOW_DAYS = 30;

/** Provider history over the last 30 days, busiest first. */
export function reputation(tasks: TaskRepo, now: number): ProviderHistory[] {
  return tasks.history(now - REPUTATION_WINDOW_DAYS * 86_400);
}
