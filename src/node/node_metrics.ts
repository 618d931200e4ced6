/** The node's metrics: messages in and out, round trips, peers, tasks; one Prometheus page. */
import type { HostPort } from "../config/mod.ts";
import { TaskMetrics } from "../tasks/mod.ts";
import { MetricsRegistry } from "../util/mod.ts";
import type { Counter, Sample } from "../util/mod.ts";
import type { NodeStats } from "./node_options.ts";

/** What {@linkcode NodeMetrics} reads when the page is rendered. */
export interface NodeMetricsSources {
  /** Counters of handled and rejected messages. */
  stats: NodeStats;
  /** Known peers. */
  peers: () => number;
  /** Skills in the skill table: this node's own and the others'. */
  skills: () => { own: number; known: number };
  /** Tasks running and waiting for a slot. */
  load: () => { running: number; queued: number };
}

/** Round-trip times kept for at most this many addresses (the oldest go first). */
const MAX_RTT_ADDRESSES = 4096;
/** Weight of a new round trip in the moving average. */
const RTT_WEIGHT = 0.3;

/** Counts what the node does; `registry.render()` is the `/metrics` page. */
export class NodeMetrics {
  /** Every family of the node (others, such as an embedded relay's, may add theirs). */
  readonly registry: MetricsRegistry = new MetricsRegistry();
  /** The provider's tasks: counts, run times, the last tasks, the last hour. */
  readonly tasks: TaskMetrics;
  /** Unix milliseconds when the node was made. */
  readonly startedAt: number = Date.now();
  #received: Counter;
  #sent: Counter;
  #rtt = new Map<string, number>();

  /** Registers the node's families over its live counters. */
  constructor(sources: NodeMetricsSources) {
    const r = this.registry;
    r.sampled(
      "process_start_time_seconds",
      "Start time of the node in unix seconds",
      "gauge",
      [],
      () => [[[], this.startedAt / 1000]],
    );
    this.tasks = new TaskMetrics(r);
    this.#received = r.counter(
      "knarr_messages_received_total",
      "Verified messages received (requests and replies), by type",
      ["type"],
    );
    this.#sent = r.counter(
      "knarr_messages_sent_total",
      "Messages sent (requests and replies), by type",
      ["type"],
    );
    r.sampled(
      "knarr_messages_rejected_total",
      "Messages dropped unanswered, by reason",
      "counter",
      ["reason"],
      () => Object.entries(sources.stats.rejected).map(([k, v]) => [[k], v]),
    );
    r.sampled("knarr_peers", "Known peers", "gauge", [], () => [[
      [],
      sources.peers(),
    ]]);
    r.sampled(
      "knarr_skills",
      "Skills in the skill table, own and other nodes'",
      "gauge",
      ["owner"],
      () => {
        const { own, known } = sources.skills();
        return [[["self"], own], [["others"], known]];
      },
    );
    r.sampled(
      "knarr_tasks_in_progress",
      "Provider tasks running and waiting for a slot",
      "gauge",
      ["state"],
      () => {
        const { running, queued } = sources.load();
        return [[["running"], running], [["queued"], queued]] as Sample[];
      },
    );
  }

  /** Counts a verified message received. */
  received(type: string): void {
    this.#received.labels(type).inc();
  }

  /** Counts a message sent. */
  sent(type: string): void {
    this.#sent.labels(type).inc();
  }

  /** Records a request's round trip to `to` (a moving average per address). */
  roundTrip(to: HostPort, ms: number): void {
    const key = `${to.host}:${to.port}`;
    const old = this.#rtt.get(key);
    if (old === undefined && this.#rtt.size >= MAX_RTT_ADDRESSES) {
      this.#rtt.delete(this.#rtt.keys().next().value!);
    }
    this.#rtt.set(
      key,
      old === undefined ? ms : old * (1 - RTT_WEIGHT) + ms * RTT_WEIGHT,
    );
  }

  /** The average round trip to `host:port` in ms, or undefined when never measured. */
  latencyOf(address: HostPort): number | undefined {
    return this.#rtt.get(`${address.host}:${address.port}`);
  }
}
