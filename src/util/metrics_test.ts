import parsePrometheusText from "parse-prometheus-text-format";
import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { bucketQuantile } from "./metrics.ts";
import { MetricsRegistry } from "./metrics_registry.ts";

/** What parse-prometheus-text-format returns for one family. */
interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}
const parse = parsePrometheusText as (text: string) => ParsedFamily[];

Deno.test("MetricsRegistry.render() writes counters, gauges and histograms in the text format", () => {
  const r = new MetricsRegistry();
  const tasks = r.counter("t_total", "Tasks", ["skill", "status"]);
  tasks.labels("echo", "completed").inc();
  tasks.labels("echo", "completed").inc(2);
  tasks.labels("echo", "failed").inc();
  r.gauge("peers", "Known peers").set(4);
  const h = r.histogram("d_seconds", "Durations", [0.1, 1]);
  h.labels().observe(0.05);
  h.labels().observe(0.5);
  h.labels().observe(3);
  r.sampled("s_total", "Sampled", "counter", ["reason"], () => [
    [["bad signature"], 7],
  ]);
  assertEquals(
    r.render(),
    [
      "# HELP t_total Tasks",
      "# TYPE t_total counter",
      't_total{skill="echo",status="completed"} 3',
      't_total{skill="echo",status="failed"} 1',
      "# HELP peers Known peers",
      "# TYPE peers gauge",
      "peers 4",
      "# HELP d_seconds Durations",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1"} 1',
      'd_seconds_bucket{le="1"} 2',
      'd_seconds_bucket{le="+Inf"} 3',
      "d_seconds_sum 3.55",
      "d_seconds_count 3",
      "# HELP s_total Sampled",
      "# TYPE s_total counter",
      's_total{reason="bad signature"} 7',
      "",
    ].join("\n"),
  );
});

Deno.test("MetricsRegistry.render() escapes label values and help so a parser reads them back", () => {
  const r = new MetricsRegistry();
  const nasty = 'a"b\\c\nd}{,=';
  r.counter("x_total", "Help with \\ and\nnewline", ["v"]).labels(nasty).inc(
    5,
  );
  const h = r.histogram("y_seconds", "Y", [0.5], ["skill"]);
  h.labels("<script>").observe(0.25);
  const parsed = parse(r.render());
  assertEquals(parsed[0]!.name, "x_total");
  assertEquals(parsed[0]!.help, "Help with \\ and\nnewline");
  assertEquals(parsed[0]!.metrics, [{ value: "5", labels: { v: nasty } }]);
  // The parser folds a histogram's buckets into one object and drops its other labels.
  assertEquals(parsed[1]!.type, "HISTOGRAM");
  assertEquals(parsed[1]!.metrics[0]!.buckets, { "0.5": "1", "+Inf": "1" });
});

Deno.test("Family.labels() returns the same child for the same values", () => {
  const r = new MetricsRegistry();
  const c = r.counter("c_total", "C", ["a", "b", "c"]);
  const one = c.labels("x", "y", "z");
  assertStrictEquals(c.labels("x", "y", "z"), one);
  assert(c.labels("x", "y", "w") !== one);
  assertEquals(one.labelValues, ["x", "y", "z"]);
  const single = r.counter("d_total", "D", ["type"]);
  assertStrictEquals(single.labels("PING"), single.labels("PING"));
  assertEquals(c.children.length, 2);
});

Deno.test("MetricsRegistry refuses bad names, duplicates and unordered buckets", () => {
  const r = new MetricsRegistry();
  r.counter("ok_total", "OK");
  assertThrows(() => r.counter("ok_total", "again"), /already registered/);
  assertThrows(() => r.counter("1bad", "B"), /not a Prometheus metric name/);
  assertThrows(() => r.counter("b_total", "B", ["le"]), /usable label name/);
  assertThrows(
    () => r.histogram("h", "H", [1, 0.5]),
    /bucket bounds must be ascending/,
  );
});

Deno.test("HistogramChild.quantile() interpolates within buckets as histogram_quantile does", () => {
  const r = new MetricsRegistry();
  const h = r.histogram("q_seconds", "Q", [1, 2, 4]).labels();
  assert(Number.isNaN(h.quantile(0.5)));
  for (let i = 0; i < 50; i++) h.observe(0.5);
  for (let i = 0; i < 50; i++) h.observe(3);
  assertEquals(h.quantile(0.5), 1);
  assertEquals(h.quantile(0.75), 3);
  h.observe(100); // +Inf bucket answers the largest bound
  assertEquals(h.quantile(1), 4);
  assertEquals(bucketQuantile([0, 4, 0], [1, 2], 0.5), 1.5);
});
