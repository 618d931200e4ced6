/**
 * What the provider did, counted cheaply on the task path: Prometheus families (tasks by
 * skill and status, failures by code, run time histograms), the last tasks in a ring of
 * reused records, and a one-hour series of tasks and run times in 10 s slots.
 */
import type { Reply } from "../discovery/mod.ts";
import {
  bucketQuantile,
  LATENCY_BUCKETS_S,
  type MetricsRegistry,
} from "../util/mod.ts";
import type { TaskRequest } from "../wire/mod.ts";

/** Skill label of a task refused before its skill was looked up. */
export const NO_SKILL_LABEL = "(none)";
/** Seconds per point of {@linkcode TaskMetrics.series}. */
export const SERIES_STEP_S = 10;
/** Points of {@linkcode TaskMetrics.series}: one hour. */
export const SERIES_POINTS = 360;

/** One task as the provider ended it (completed, failed, or refused before running). */
export interface TaskRecord {
  /** 1, 2, 3… in the order tasks ended. */
  seq: number;
  /** Unix milliseconds when it ended. */
  at: number;
  /** The task id (as the caller chose it). */
  taskId: string;
  /** The skill asked for (as the caller wrote it when it was refused unknown). */
  skill: string;
  /** The caller's node id. */
  caller: string;
  /** "completed" or "failed". */
  status: string;
  /** The error code of a failed task, "" otherwise. */
  code: string;
  /** Run time in ms, or null when it never ran (refused, or timed out queued). */
  wallMs: number | null;
  /** Credits charged. */
  price: number;
}

/** Per-skill figures since start. */
export interface SkillTaskStats {
  /** Skill name ({@linkcode NO_SKILL_LABEL} for tasks refused before the lookup). */
  skill: string;
  /** Tasks completed. */
  completed: number;
  /** Tasks failed or refused. */
  failed: number;
  /** Failures by error code. */
  errors: Record<string, number>;
  /** Median run time in ms (estimated from the histogram), NaN without runs. */
  p50Ms: number;
  /** 99th percentile run time in ms, NaN without runs. */
  p99Ms: number;
}

/** One 10 s point of the last hour. */
export interface TaskSeriesPoint {
  /** Unix seconds at the start of the slot. */
  at: number;
  /** Tasks that ended in the slot. */
  count: number;
  /** Median run time in ms of the slot's runs, NaN without runs. */
  p50Ms: number;
  /** 99th percentile run time in ms, NaN without runs. */
  p99Ms: number;
}

/** Options for {@linkcode TaskMetrics}. */
export interface TaskMetricsOptions {
  /** Tasks kept for {@linkcode TaskMetrics.recent}. Default 200. */
  recent?: number;
  /** Unix milliseconds. Default: `performance.timeOrigin + performance.now()`. */
  clock?: () => number;
}

const BUCKETS = LATENCY_BUCKETS_S.length + 1;

/** Counts the provider's tasks; `observe` allocates nothing once a skill's series exist. */
export class TaskMetrics {
  #tasks;
  #failures;
  #duration;
  // The last tasks, column by column: numbers in typed arrays, so recording one boxes
  // no double and allocates nothing.
  #size: number;
  #at: Float64Array;
  #wallMs: Float64Array;
  #price: Float64Array;
  #taskId: string[];
  #skill: string[];
  #caller: string[];
  #status: string[];
  #code: string[];
  #seq = 0;
  #clock: () => number;
  #slotOf = new Float64Array(SERIES_POINTS).fill(-1);
  #slotCount = new Uint32Array(SERIES_POINTS);
  #slotRuns = new Uint32Array(SERIES_POINTS * BUCKETS);

  /** Registers the task families in `registry`. */
  constructor(registry: MetricsRegistry, options: TaskMetricsOptions = {}) {
    this.#tasks = registry.counter(
      "knarr_tasks_total",
      "Tasks this node ended as a provider, by skill and status",
      ["skill", "status"],
    );
    this.#failures = registry.counter(
      "knarr_task_failures_total",
      "Failed or refused tasks by skill and error code",
      ["skill", "code"],
    );
    this.#duration = registry.histogram(
      "knarr_task_duration_seconds",
      "Handler run time of tasks that ran, by skill",
      LATENCY_BUCKETS_S,
      ["skill"],
    );
    const n = this.#size = Math.max(1, options.recent ?? 200);
    this.#at = new Float64Array(n);
    this.#wallMs = new Float64Array(n);
    this.#price = new Float64Array(n);
    this.#taskId = new Array<string>(n).fill("");
    this.#skill = new Array<string>(n).fill("");
    this.#caller = new Array<string>(n).fill("");
    this.#status = new Array<string>(n).fill("");
    this.#code = new Array<string>(n).fill("");
    // Date.now() boxes its result on every call; performance.now() does not.
    const origin = performance.timeOrigin;
    this.#clock = options.clock ?? (() => origin + performance.now());
  }

  /**
   * Counts one ended task. Positional, so the task path builds no object: the request,
   * the skill that was resolved (null when refused before), the caller's node id, the
   * reply, the credits charged and the run time (null when it never ran).
   */
  observe(
    request: TaskRequest,
    skill: string | null,
    caller: string,
    reply: Reply<"TASK_RESULT">,
    price: number,
    wallMs: number | null,
  ): void {
    const label = skill ?? NO_SKILL_LABEL;
    const status = reply.fields.status as string;
    const error = reply.fields.error as { code?: unknown } | undefined;
    const code = typeof error?.code === "string" ? error.code : "";
    this.#tasks.labels(label, status).inc();
    if (status !== "completed") {
      this.#failures.labels(label, code || "UNKNOWN").inc();
    }
    if (wallMs !== null) this.#duration.labels(label).observe(wallMs / 1000);
    const now = this.#clock();
    const i = this.#seq++ % this.#size;
    this.#at[i] = now;
    this.#wallMs[i] = wallMs ?? NaN;
    this.#price[i] = price;
    this.#taskId[i] = request.task_id;
    this.#skill[i] = skill ?? request.skill_name;
    this.#caller[i] = caller;
    this.#status[i] = status;
    this.#code[i] = code;
    this.#slot(now, wallMs);
  }

  #slot(nowMs: number, wallMs: number | null): void {
    const slot = Math.floor(nowMs / (SERIES_STEP_S * 1000));
    const i = slot % SERIES_POINTS;
    if (this.#slotOf[i] !== slot) {
      this.#slotOf[i] = slot;
      this.#slotCount[i] = 0;
      this.#slotRuns.fill(0, i * BUCKETS, (i + 1) * BUCKETS);
    }
    this.#slotCount[i]!++;
    if (wallMs === null) return;
    const s = wallMs / 1000;
    let b = 0;
    while (b < LATENCY_BUCKETS_S.length && s > LATENCY_BUCKETS_S[b]!) b++;
    this.#slotRuns[i * BUCKETS + b]!++;
  }

  /** Sequence number of the last task observed (0 before any). */
  get lastSeq(): number {
    return this.#seq;
  }

  /** Copies of the kept tasks after `afterSeq`, oldest first. */
  recent(afterSeq = 0): TaskRecord[] {
    const from = Math.max(afterSeq, this.#seq - this.#size);
    const out: TaskRecord[] = [];
    for (let seq = from + 1; seq <= this.#seq; seq++) {
      const i = (seq - 1) % this.#size;
      const wallMs = this.#wallMs[i]!;
      out.push({
        seq,
        at: this.#at[i]!,
        taskId: this.#taskId[i]!,
        skill: this.#skill[i]!,
        caller: this.#caller[i]!,
        status: this.#status[i]!,
        code: this.#code[i]!,
        wallMs: Number.isNaN(wallMs) ? null : wallMs,
        price: this.#price[i]!,
      });
    }
    return out;
  }

  /** Per-skill figures since start, by skill name. */
  skills(): Map<string, SkillTaskStats> {
    const out = new Map<string, SkillTaskStats>();
    const entry = (skill: string) => {
      let e = out.get(skill);
      if (!e) {
        e = {
          skill,
          completed: 0,
          failed: 0,
          errors: {},
          p50Ms: NaN,
          p99Ms: NaN,
        };
        out.set(skill, e);
      }
      return e;
    };
    for (const c of this.#tasks.children) {
      const e = entry(c.labelValues[0]!);
      if (c.labelValues[1] === "completed") e.completed += c.value;
      else e.failed += c.value;
    }
    for (const c of this.#failures.children) {
      entry(c.labelValues[0]!).errors[c.labelValues[1]!] = c.value;
    }
    for (const c of this.#duration.children) {
      const e = entry(c.labelValues[0]!);
      e.p50Ms = c.quantile(0.5) * 1000;
      e.p99Ms = c.quantile(0.99) * 1000;
    }
    return out;
  }

  /** The last hour in {@linkcode SERIES_STEP_S} slots, oldest first (empty slots count 0). */
  series(): TaskSeriesPoint[] {
    const last = Math.floor(this.#clock() / (SERIES_STEP_S * 1000));
    const out: TaskSeriesPoint[] = [];
    for (let slot = last - SERIES_POINTS + 1; slot <= last; slot++) {
      const i = slot % SERIES_POINTS;
      const live = this.#slotOf[i] === slot;
      out.push({
        at: slot * SERIES_STEP_S,
        count: live ? this.#slotCount[i]! : 0,
        p50Ms: live ? this.#slotQuantile(i, 0.5) : NaN,
        p99Ms: live ? this.#slotQuantile(i, 0.99) : NaN,
      });
    }
    return out;
  }

  #slotQuantile(i: number, q: number): number {
    return bucketQuantile(this.#slotRuns, LATENCY_BUCKETS_S, q, i * BUCKETS) *
      1000;
  }
}
