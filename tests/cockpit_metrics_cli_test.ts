/** `/metrics` of a real `knarr serve` (with its embedded relay), read by an npm Prometheus parser. */
import { join } from "node:path";
import parsePrometheusText from "parse-prometheus-text-format";
import { assert, assertEquals } from "./assert.ts";
import { knarr, knarrRequest, serve } from "./cli_helpers.ts";

interface Family {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
  }[];
}
const parse = parsePrometheusText as (text: string) => Family[];

function value(
  families: Family[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.find((f) => f.name === name);
  const metric = family?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  return metric?.value === undefined ? undefined : Number(metric.value);
}

Deno.test("knarr serve /metrics parses as Prometheus text: tasks, latency, peers, messages, rejections, relay", async () => {
  const cwd = Deno.makeTempDirSync({ prefix: "knarr-metrics-" });
  assertEquals((await knarr(["init", "p"], { cwd })).code, 0);
  const dir = join(cwd, "p");
  const toml = join(dir, "knarr.toml");
  Deno.writeTextFileSync(
    toml,
    Deno.readTextFileSync(toml) +
      '\n[relay]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n',
  );
  const node = await serve(dir);
  try {
    const url = node.lines.map((l) => /^Cockpit: (\S+)$/.exec(l)?.[1]).find(
      Boolean,
    )!;
    const base = url.slice(0, url.indexOf("/?token="));
    const token = url.slice(url.indexOf("token=") + 6);
    for (const text of ["a", "b"]) {
      const r = await knarrRequest(node.port, "echo", `{"text": "${text}"}`);
      assertEquals(r.code, 0, r.stderr);
    }
    // Disabled through the cockpit's action: the request reaches the node and is refused.
    const disable = await fetch(`${base}/actions/skill`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: new URLSearchParams({ name: "echo", enabled: "false" }),
    });
    assertEquals(await disable.json(), {
      ok: true,
      message: 'skill "echo" disabled',
    });
    const refused = await knarrRequest(node.port, "echo", '{"text": "c"}');
    assertEquals(refused.code, 1);
    // One frame that is no knarr message: a rejection by reason.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
    await conn.write(new Uint8Array([0, 0, 0, 2, 0x7b, 0x7d]));
    await conn.read(new Uint8Array(8)).catch(() => null);
    conn.close();

    const unauthorized = await fetch(`${base}/metrics`);
    await unauthorized.body?.cancel();
    assertEquals(unauthorized.status, 401);
    const response = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assertEquals(response.status, 200);
    const families = parse(await response.text());
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    for (
      const [name, type] of [
        ["knarr_tasks_total", "COUNTER"],
        ["knarr_task_failures_total", "COUNTER"],
        ["knarr_task_duration_seconds", "HISTOGRAM"],
        ["knarr_peers", "GAUGE"],
        ["knarr_messages_received_total", "COUNTER"],
        ["knarr_messages_sent_total", "COUNTER"],
        ["knarr_messages_rejected_total", "COUNTER"],
        ["knarr_relay_connections", "GAUGE"],
        ["knarr_relay_events_total", "COUNTER"],
      ] as const
    ) assertEquals(types[name], type, name);
    assertEquals(
      value(families, "knarr_tasks_total", {
        skill: "echo",
        status: "completed",
      }),
      2,
    );
    assertEquals(
      value(families, "knarr_task_failures_total", {
        skill: "echo",
        code: "SKILL_DISABLED",
      }),
      1,
    );
    const latency = families.find((f) =>
      f.name === "knarr_task_duration_seconds"
    )!;
    assertEquals(latency.metrics[0]!.buckets?.["+Inf"], "2");
    assertEquals(
      value(families, "knarr_messages_received_total", {
        type: "TASK_REQUEST",
      }),
      3,
    );
    assertEquals(
      value(families, "knarr_messages_sent_total", { type: "TASK_RESULT" }),
      3,
    );
    assertEquals(
      value(families, "knarr_messages_rejected_total", { reason: "malformed" }),
      1,
    );
    assert(
      (value(families, "knarr_relay_events_total", {
        event: "connections_accepted",
      }) ?? -1) >= 0,
    );
    // The page shows the embedded relay.
    const page = await (await fetch(`${base}/`, {
      headers: { authorization: `Bearer ${token}` },
    })).text();
    assert(
      /Listening on <span class="mono">127\.0\.0\.1:\d+<\/span>: \d+ connections/
        .test(page),
    );
  } finally {
    assertEquals((await node.stop()).code, 0);
  }
});
