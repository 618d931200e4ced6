/** The registry of metric families and their Prometheus text (format 0.0.4). */
import { Counter, Gauge, Histogram } from "./metrics.ts";
import type { HistogramChild, MetricType, Sample } from "./metrics.ts";

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

interface SampledFamily {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
  sample: () => Iterable<Sample>;
}

type Registered = Counter | Gauge | Histogram | SampledFamily;

/**
 * Metric families rendered together as one Prometheus text page.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const tasks = registry.counter("knarr_tasks_total", "Tasks", ["skill"]);
 * tasks.labels("echo").inc();
 * registry.render(); // "# HELP knarr_tasks_total Tasks\n# TYPE knarr_tasks_total counter\n…"
 * ```
 */
export class MetricsRegistry {
  #families: Registered[] = [];
  #names = new Set<string>();

  /** Registers a counter family. */
  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return this.#add(new Counter(name, help, this.#check(name, labelNames)));
  }

  /** Registers a gauge family. */
  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return this.#add(new Gauge(name, help, this.#check(name, labelNames)));
  }

  /** Registers a histogram family with these ascending bucket bounds. */
  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    labelNames: string[] = [],
  ): Histogram {
    if (
      bounds.length === 0 || bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)
    ) {
      throw new RangeError(
        `Cannot register histogram "${name}": bucket bounds must be ascending and not empty`,
      );
    }
    return this.#add(
      new Histogram(name, help, this.#check(name, [...labelNames]), bounds),
    );
  }

  /**
   * Registers a family whose samples are read when rendering (a count or size kept
   * elsewhere: peers, queue length, a relay's counters).
   */
  sampled(
    name: string,
    help: string,
    type: "counter" | "gauge",
    labelNames: string[],
    sample: () => Iterable<Sample>,
  ): void {
    this.#add({
      name,
      help,
      type,
      labelNames: this.#check(name, labelNames),
      sample,
    });
  }

  /** The families in the Prometheus text format, one block per family. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      if ("sample" in f) {
        for (const [values, value] of f.sample()) {
          out.push(
            `${f.name}${labelText(f.labelNames, values)} ${num(value)}`,
          );
        }
      } else if (f instanceof Histogram) {
        for (const child of f.children) renderHistogram(out, f, child);
      } else {
        for (const child of f.children) {
          out.push(
            `${f.name}${labelText(f.labelNames, child.labelValues)} ${
              num(child.value)
            }`,
          );
        }
      }
    }
    return out.join("\n") + "\n";
  }

  #check(name: string, labelNames: string[]): string[] {
    if (!NAME_RE.test(name)) {
      throw new TypeError(
        `Cannot register metric "${name}": not a Prometheus metric name`,
      );
    }
    if (this.#names.has(name)) {
      throw new TypeError(
        `Cannot register metric "${name}": already registered`,
      );
    }
    if (labelNames.length > 3) {
      throw new RangeError(
        `Cannot register metric "${name}": at most 3 labels (got ${labelNames.length})`,
      );
    }
    for (const label of labelNames) {
      if (!LABEL_RE.test(label) || label.startsWith("__") || label === "le") {
        throw new TypeError(
          `Cannot register metric "${name}": "${label}" is not a usable label name`,
        );
      }
    }
    return labelNames;
  }

  #add<F extends Registered>(family: F): F {
    this.#names.add(family.name);
    this.#families.push(family);
    return family;
  }
}

function renderHistogram(
  out: string[],
  f: Histogram,
  child: HistogramChild,
): void {
  let cumulative = 0;
  for (let i = 0; i <= f.bounds.length; i++) {
    cumulative += child.counts[i]!;
    const le = i === f.bounds.length ? "+Inf" : num(f.bounds[i]!);
    out.push(
      `${f.name}_bucket${
        labelText(f.labelNames, child.labelValues, le)
      } ${cumulative}`,
    );
  }
  const labels = labelText(f.labelNames, child.labelValues);
  out.push(`${f.name}_sum${labels} ${num(child.sum)}`);
  out.push(`${f.name}_count${labels} ${child.count}`);
}

function labelText(
  names: readonly string[],
  values: readonly string[],
  le?: string,
): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (le !== undefined) parts.push(`le="${le}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
