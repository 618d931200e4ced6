/**
 * Metric families: counters, gauges and histograms with up to three labels (rendered
 * by `MetricsRegistry` in the Prometheus text format).
 *
 * Hot paths hold on to a child (`counter.labels("echo")`) or look one up with label
 * values they already have: a lookup walks nested maps and allocates nothing once the
 * child exists.
 */

/** The kinds of metric families. */
export type MetricType = "counter" | "gauge" | "histogram";

/** One sample of a {@linkcode MetricsRegistry.sampled} family: label values and value. */
export type Sample = readonly [labels: readonly string[], value: number];

/** Latency buckets in seconds, from 250 µs to one minute. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** A counter or gauge of one label set. */
export class ValueChild {
  /** Current value. */
  value = 0;
  /** The label values, in the family's label order. */
  readonly labelValues: readonly string[];

  /** Takes the label values (families make their children). */
  constructor(labelValues: readonly string[]) {
    this.labelValues = labelValues;
  }

  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }

  /** Sets the value (gauges, or a counter mirroring a count kept elsewhere). */
  set(n: number): void {
    this.value = n;
  }
}

/** A histogram of one label set: bucket counts, sum and count. */
export class HistogramChild {
  /** The label values, in the family's label order. */
  readonly labelValues: readonly string[];
  /** Upper bounds, ascending; the implicit last bucket is +Inf. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); one more than `bounds`. */
  readonly counts: Float64Array;
  /** Sum of all observed values. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /** Takes the label values and the family's bucket bounds. */
  constructor(labelValues: readonly string[], bounds: readonly number[]) {
    this.labelValues = labelValues;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value. */
  observe(v: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }

  /** The `q` quantile (0…1) estimated as Prometheus' `histogram_quantile` does; NaN when empty. */
  quantile(q: number): number {
    return bucketQuantile(this.counts, this.bounds, q);
  }
}

/**
 * The `q` quantile of non-cumulative bucket `counts` over `bounds` (linear within a
 * bucket; the +Inf bucket answers the largest bound). NaN when there is nothing.
 */
export function bucketQuantile(
  counts: ArrayLike<number>,
  bounds: readonly number[],
  q: number,
  offset = 0,
): number {
  let total = 0;
  for (let i = 0; i <= bounds.length; i++) total += counts[offset + i]!;
  if (total === 0) return NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i <= bounds.length; i++) {
    const n = counts[offset + i]!;
    if (seen + n >= rank && n > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1] ?? NaN;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / n);
    }
    seen += n;
  }
  return bounds[bounds.length - 1] ?? NaN;
}

/** A metric family: one name, help text and type, a child per label set. */
export abstract class MetricFamily<C extends ValueChild | HistogramChild> {
  /** The metric name. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** Label names, at most three. */
  readonly labelNames: readonly string[];
  /** The `# TYPE`. */
  abstract readonly type: MetricType;
  #root = new Map<string, unknown>();
  #noLabels: C | null = null;
  /** Children in creation order, for rendering. */
  readonly children: C[] = [];

  /** Takes the name, help text and label names (the registry checks them). */
  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** Makes the child of new label values. */
  protected abstract make(labelValues: readonly string[]): C;

  /** The child of these label values (as many as the family has label names). */
  labels(a?: string, b?: string, c?: string): C {
    const n = this.labelNames.length;
    if (n === 0) {
      return this.#noLabels ??= this.#add([]);
    }
    // Walks one map per label: no key string or array is built, so a hit allocates nothing.
    let map = this.#root;
    if (n > 1) map = this.#level(map, a ?? "");
    if (n > 2) map = this.#level(map, b ?? "");
    const last = (n === 1 ? a : n === 2 ? b : c) ?? "";
    let child = map.get(last) as C | undefined;
    if (!child) {
      child = this.#add([a ?? "", b ?? "", c ?? ""].slice(0, n));
      map.set(last, child);
    }
    return child;
  }

  #level(map: Map<string, unknown>, key: string): Map<string, unknown> {
    let next = map.get(key) as Map<string, unknown> | undefined;
    if (!next) map.set(key, next = new Map());
    return next;
  }

  #add(labelValues: readonly string[]): C {
    const child = this.make(labelValues);
    this.children.push(child);
    return child;
  }
}

/** A monotonic count. */
export class Counter extends MetricFamily<ValueChild> {
  /** Always "counter". */
  readonly type = "counter" as const;
  /** Makes the child of new label values. */
  protected make(labelValues: readonly string[]): ValueChild {
    return new ValueChild(labelValues);
  }
  /** Adds `n` to the unlabelled child. */
  inc(n = 1): void {
    this.labels().inc(n);
  }
}

/** A value that goes up and down. */
export class Gauge extends MetricFamily<ValueChild> {
  /** Always "gauge". */
  readonly type = "gauge" as const;
  /** Makes the child of new label values. */
  protected make(labelValues: readonly string[]): ValueChild {
    return new ValueChild(labelValues);
  }
  /** Sets the unlabelled child. */
  set(n: number): void {
    this.labels().set(n);
  }
}

/** A distribution over fixed buckets. */
export class Histogram extends MetricFamily<HistogramChild> {
  /** Always "histogram". */
  readonly type = "histogram" as const;
  /** Upper bucket bounds, ascending. */
  readonly bounds: readonly number[];
  /** Takes the name, help text, label names and bucket bounds. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    super(name, help, labelNames);
    this.bounds = bounds;
  }
  /** Makes the child of new label values. */
  protected make(labelValues: readonly string[]): HistogramChild {
    return new HistogramChild(labelValues, this.bounds);
  }
}
