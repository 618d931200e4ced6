/** Tasks: the provider pipeline, the consumer, credits and reputation. */
export { TaskConsumer } from "./consumer.ts";
export type { TaskConsumerDeps, TaskRequestOptions } from "./consumer.ts";
export { TaskProvider } from "./provider.ts";
export type { TaskProviderDeps } from "./provider.ts";
export { reputation, REPUTATION_WINDOW_DAYS } from "./reputation.ts";
export type {
  ExecutableSkill,
  RunContext,
  RunOutcome,
  SendMessage,
  SkillExecutor,
  TaskOutcome,
  TaskPolicy,
} from "./types.ts";
