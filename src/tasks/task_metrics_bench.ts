/**
 * What counting a task costs the provider's path: `TaskMetrics.observe` (counters, the
 * run time histogram, the ring of last tasks, the hour series) and NodeMetrics' message
 * counters, against rendering the whole `/metrics` page.
 *
 *   deno bench -A src/tasks/task_metrics_bench.ts
 */
import type { Reply } from "../discovery/mod.ts";
import { MetricsRegistry } from "../util/mod.ts";
import type { TaskRequest } from "../wire/mod.ts";
import { TaskMetrics } from "./task_metrics.ts";

const registry = new MetricsRegistry();
const metrics = new TaskMetrics(registry);
const messages = registry.counter("m_total", "Messages", ["type"]);
const request = {
  task_id: crypto.randomUUID(),
  skill_name: "echo",
} as unknown as TaskRequest;
const completed: Reply<"TASK_RESULT"> = {
  type: "TASK_RESULT",
  fields: { task_id: "t", status: "completed", output_data: {}, error: {} },
};
const failed: Reply<"TASK_RESULT"> = {
  type: "TASK_RESULT",
  fields: {
    task_id: "t",
    status: "failed",
    output_data: {},
    error: { code: "TIMEOUT", message: "Task timed out" },
  },
};
const caller = "a".repeat(64);
let i = 0;
// A page with five skills' series, as a busy node has.
for (const skill of ["echo", "upper", "gzip", "ocr", "search"]) {
  metrics.observe(request, skill, caller, completed, 1, 3);
  metrics.observe(request, skill, caller, failed, 0, 30_000);
}
for (const type of ["TASK_REQUEST", "TASK_RESULT", "QUERY", "ANNOUNCE"]) {
  messages.labels(type).inc();
}

Deno.bench(
  "TaskMetrics.observe() of a completed task",
  { group: "task" },
  () => {
    metrics.observe(request, "echo", caller, completed, 1, 0.4 + (i++ % 7));
  },
);

Deno.bench("TaskMetrics.observe() of a failed task", { group: "task" }, () => {
  metrics.observe(request, "echo", caller, failed, 0, 30_000);
});

Deno.bench("message counter (received/sent by type)", { group: "task" }, () => {
  messages.labels("TASK_REQUEST").inc();
});

Deno.bench("MetricsRegistry.render() of five skills' task families", () => {
  registry.render();
});
