/** The node's metrics and skill switches over real TCP: what `/metrics` and the cockpit read. */
import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";

async function started(storage = ":memory:"): Promise<KnarrNode> {
  const node = await KnarrNode.create({ host: "127.0.0.1", port: 0, storage });
  await node.start({ maintenance: false });
  return node;
}

function providerOf(node: KnarrNode) {
  return {
    node_id: node.nodeId,
    host: "127.0.0.1",
    port: node.address.port,
    skill_sheet: {},
    sidecar_port: 0,
  };
}

Deno.test("KnarrNode.skillSwitches: a disabled skill is refused with SKILL_DISABLED, the consumer tries the next provider, and it stays disabled after a restart", async () => {
  const storage = join(
    Deno.makeTempDirSync({ prefix: "knarr-switch-" }),
    "p.db",
  );
  const consumer = await started();
  await using _c = consumer;
  const off = await started(storage);
  const on = await started();
  await using _on = on;
  for (const n of [off, on]) {
    await n.announce(ECHO_SHEET);
    n.registerHandler(
      "echo",
      (i) => ({ text: `${n.nodeId.slice(0, 4)} ${i.text}` }),
    );
  }
  assertEquals(off.skillSwitches.set("ECHO ", false), true);
  assertEquals(off.skillSwitches.set("echo", false), false);
  const alone = await consumer.consumer.request("echo", { text: "x" }, [
    providerOf(off),
  ]);
  assertEquals([alone.status, alone.error.code], ["failed", "SKILL_DISABLED"]);
  const next = await consumer.consumer.request("echo", { text: "y" }, [
    providerOf(off),
    providerOf(on),
  ]);
  assertEquals([next.status, next.provider?.node_id], ["completed", on.nodeId]);
  const stats = off.metrics.tasks.skills().get("echo");
  assertEquals([stats?.completed, stats?.failed, stats?.errors], [0, 2, {
    SKILL_DISABLED: 2,
  }]);
  await off.close();

  await using again = await started(storage);
  assertEquals(again.skillSwitches.list(), ["echo"]);
  await again.announce(ECHO_SHEET);
  again.registerHandler("echo", (i) => ({ text: String(i.text) }));
  const still = await consumer.consumer.request("echo", { text: "z" }, [
    providerOf(again),
  ]);
  assertEquals(still.error.code, "SKILL_DISABLED");
  again.skillSwitches.set("echo", true);
  const back = await consumer.consumer.request("echo", { text: "z" }, [
    providerOf(again),
  ]);
  assertEquals([back.status, back.output_data], ["completed", { text: "z" }]);
});

Deno.test("NodeMetrics counts tasks, run times, messages in and out, and round trips", async () => {
  await using provider = await started();
  await using consumer = await started();
  await consumer.join([provider.address]);
  await provider.announce(ECHO_SHEET);
  provider.registerHandler("echo", (i) => ({ text: String(i.text) }));
  for (let i = 0; i < 3; i++) {
    const r = await consumer.consumer.request("echo", { text: `${i}` }, [
      providerOf(provider),
    ]);
    assertEquals(r.status, "completed");
  }
  const unknown = await consumer.consumer.request("nope", {}, [
    providerOf(provider),
  ]);
  assertEquals(unknown.error.code, "UNKNOWN_SKILL");

  const recent = provider.metrics.tasks.recent();
  assertEquals(recent.map((t) => [t.skill, t.status, t.code]), [
    ["echo", "completed", ""],
    ["echo", "completed", ""],
    ["echo", "completed", ""],
    ["nope", "failed", "UNKNOWN_SKILL"],
  ]);
  assert(recent.every((t) => t.caller === consumer.nodeId));
  assertEquals(recent.map((t) => t.wallMs === null), [
    false,
    false,
    false,
    true,
  ]);
  assertEquals(provider.metrics.tasks.recent(recent[2]!.seq).length, 1);
  const text = provider.metrics.registry.render();
  for (
    const line of [
      'knarr_tasks_total{skill="echo",status="completed"} 3',
      'knarr_tasks_total{skill="(none)",status="failed"} 1',
      'knarr_task_failures_total{skill="(none)",code="UNKNOWN_SKILL"} 1',
      'knarr_task_duration_seconds_count{skill="echo"} 3',
      'knarr_messages_received_total{type="TASK_REQUEST"} 4',
      'knarr_messages_sent_total{type="TASK_RESULT"} 4',
      'knarr_messages_received_total{type="JOIN_REQUEST"} 1',
      "knarr_peers 1",
    ]
  ) assert(text.includes(`\n${line}\n`), `missing ${line} in\n${text}`);
  const sent = consumer.metrics.registry.render();
  assert(sent.includes('\nknarr_messages_sent_total{type="TASK_REQUEST"} 4\n'));
  assert(
    sent.includes('\nknarr_messages_received_total{type="TASK_RESULT"} 4\n'),
  );
  const rtt = consumer.metrics.latencyOf(provider.address);
  assert(rtt !== undefined && rtt > 0 && rtt < 5_000, `rtt ${rtt}`);
  const series = provider.metrics.tasks.series();
  assertEquals(series.length, 360);
  assertEquals(series.reduce((s, p) => s + p.count, 0), 4);
});
