/** Tasks: the provider pipeline, the consumer, credits and reputation. */
export { TaskConsumer } from "./consumer.ts";
export type { TaskConsumerDeps, TaskRequestOptions } from "./consumer.ts";
export { TaskProvider } from "./provider.ts";
export type { TaskProviderDeps } from "./provider.ts";
export { reputation, REPUTATION_WINDOW_DAYS } from "./reputation.ts";
export {
  NO_SKILL_LABEL,
  SERIES_POINTS,
  SERIES_STEP_S,
  TaskMetrics,
} from "./task_metrics.ts";
export type {
  SkillTaskStats,
  TaskMetricsOptions,
  TaskRecord,
  TaskSeriesPoint,
} from "./task_metrics.ts";
export type {
  ExecutableSkill,
  RunContext,
  RunOutcome,
  SendMessage,
  SkillExecutor,
  TaskOutcome,
  TaskPolicy,
} from "./types.ts";
