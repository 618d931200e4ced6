import { assert, assertEquals } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { KnarrNodeOptions } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";
import { signMessage } from "../src/wire/mod.ts";
import type { JsonObject, Message, MessageFields } from "../src/wire/mod.ts";

const SHEET = ECHO_SHEET;

function node(options: KnarrNodeOptions = {}): Promise<KnarrNode> {
  return KnarrNode.create({ host: "127.0.0.1", port: 0, ...options });
}

async function pair(providerOptions: KnarrNodeOptions = {}) {
  const provider = await node(providerOptions);
  const consumer = await node();
  await provider.start({ maintenance: false });
  await consumer.start({ maintenance: false });
  await consumer.join([provider.address]);
  return {
    provider,
    consumer,
    [Symbol.asyncDispose]: async () => {
      await consumer.close();
      await provider.close();
    },
  };
}

function taskFields(
  consumer: KnarrNode,
  overrides: MessageFields<"TASK_REQUEST"> = {},
): MessageFields<"TASK_REQUEST"> {
  return {
    task_id: crypto.randomUUID(),
    requester_node_id: consumer.nodeId,
    requester_host: consumer.address.host,
    requester_port: consumer.address.port,
    skill_name: "echo",
    input_data: { text: "hello" },
    timeout_ms: 5000,
    ...overrides,
  };
}

async function call(
  consumer: KnarrNode,
  provider: KnarrNode,
  overrides: MessageFields<"TASK_REQUEST"> = {},
) {
  const reply = await consumer.sendMessage(
    provider.address,
    "TASK_REQUEST",
    taskFields(consumer, overrides),
    {
      timeoutMs: 10_000,
    },
  );
  assert(reply !== null);
  return reply as Message & {
    status: string;
    error: JsonObject;
    output_data: JsonObject;
    type: string;
  };
}

function echo(node: KnarrNode): void {
  node.registerHandler("echo", (input) => ({ text: String(input.text) }));
}

Deno.test("TASK_REQUEST over TCP completes with the handler's output and the caller's ids", async () => {
  await using p = await pair();
  await p.provider.announce(SHEET);
  let seen: JsonObject = {};
  p.provider.registerHandler("echo", (input) => {
    seen = input;
    return { text: String(input.text) };
  });
  const r = await call(p.consumer, p.provider);
  assertEquals([r.type, r.status, r.output_data], ["TASK_RESULT", "completed", {
    text: "hello",
  }]);
  assertEquals(seen._caller_node_id, p.consumer.nodeId);
  assertEquals(typeof seen._job_id, "string");
});

Deno.test("Provider answers every error code of the protocol through the real wire", async (t) => {
  const allowed = await KnarrNode.create({ host: "127.0.0.1" });
  await using p = await pair({ policy: { taskSlots: 1, maxQueueDepth: 1 } });
  await using _allowed = allowed;
  await p.provider.announce(SHEET);
  echo(p.provider);
  await p.provider.announce({ ...SHEET, name: "tiny", maxInputSize: 10 });
  p.provider.registerHandler("tiny", (i) => i);
  await p.provider.announce({ ...SHEET, name: "hidden" }, {
    visibility: "private",
  });
  p.provider.registerHandler("hidden", (i) => i);
  await p.provider.announce({ ...SHEET, name: "club" }, {
    visibility: "whitelist",
    allowedNodes: [allowed.nodeId],
  });
  p.provider.registerHandler("club", (i) => i);
  await p.provider.announce({ ...SHEET, name: "boom" });
  p.provider.registerHandler("boom", () => {
    throw new Error("secret internals");
  });
  await p.provider.announce({ ...SHEET, name: "sleepy" });
  p.provider.registerHandler(
    "sleepy",
    () => new Promise((r) => setTimeout(() => r({ text: "late" }), 400)),
  );
  await p.provider.announce({ ...SHEET, name: "list" });
  p.provider.registerHandler("list", () => [1, 2] as unknown as JsonObject);

  await t.step("DUPLICATE_REQUEST", async () => {
    const msg = await signMessage(
      "TASK_REQUEST",
      taskFields(p.consumer),
      p.consumer.identity,
    );
    const first = await p.consumer.sendSigned(
      p.provider.address,
      msg as Message,
    ) as Message & { status: string };
    assertEquals(first.status, "completed");
    const again = await p.consumer.sendSigned(
      p.provider.address,
      msg as Message,
    ) as Message & { error: JsonObject };
    assertEquals(again.error, {
      code: "DUPLICATE_REQUEST",
      message: "Duplicate request",
    });
  });
  await t.step("UNKNOWN_SKILL", async () => {
    const r = await call(p.consumer, p.provider, { skill_name: "Nope" });
    assertEquals(r.error, {
      code: "UNKNOWN_SKILL",
      message: "No handler for skill 'nope'",
    });
  });
  await t.step("INPUT_TOO_LARGE", async () => {
    const r = await call(p.consumer, p.provider, {
      skill_name: "tiny",
      input_data: { text: "far too long" },
    });
    assertEquals(r.error.code, "INPUT_TOO_LARGE");
  });
  await t.step("INVALID_INPUT", async () => {
    const r = await call(p.consumer, p.provider, { input_data: { other: 1 } });
    assertEquals(r.error, {
      code: "INVALID_INPUT",
      message: "Missing required fields: text",
      detail: { missing_fields: ["text"] },
    });
  });
  await t.step("INVALID_REQUEST", async () => {
    const r = await call(p.consumer, p.provider, { requester_port: 0 });
    assertEquals(r.error.code, "INVALID_REQUEST");
  });
  await t.step(
    "ACCESS_DENIED for private and for a node off the whitelist",
    async () => {
      assertEquals(
        (await call(p.consumer, p.provider, { skill_name: "hidden" })).error,
        {
          code: "ACCESS_DENIED",
          message: "Skill 'hidden' is private",
        },
      );
      assertEquals(
        (await call(p.consumer, p.provider, { skill_name: "club" })).error.code,
        "ACCESS_DENIED",
      );
    },
  );
  await t.step(
    "whitelist allows a listed node, and a node may call its own private skill",
    async () => {
      await allowed.start({ maintenance: false });
      const r = await call(allowed, p.provider, { skill_name: "club" });
      assertEquals(r.status, "completed");
      const own = await call(p.provider, p.provider, { skill_name: "hidden" });
      assertEquals(own.status, "completed");
    },
  );
  await t.step("HANDLER_ERROR hides the details", async () => {
    assertEquals(
      (await call(p.consumer, p.provider, { skill_name: "boom" })).error,
      {
        code: "HANDLER_ERROR",
        message: "Handler execution failed",
      },
    );
    assertEquals(
      (await call(p.consumer, p.provider, { skill_name: "list" })).error.code,
      "HANDLER_ERROR",
    );
  });
  await t.step("TIMEOUT", async () => {
    const r = await call(p.consumer, p.provider, {
      skill_name: "sleepy",
      timeout_ms: 50,
    });
    assertEquals(r.error, { code: "TIMEOUT", message: "Task timed out" });
    await new Promise((r) => setTimeout(r, 400)); // let the abandoned in-process handler finish
  });
});

Deno.test("A fast skill with every slot busy waits in the queue: each caller gets its result in order, none is refused", async () => {
  await using p = await pair({ policy: { taskSlots: 1, maxQueueDepth: 10 } });
  await p.provider.announce(SHEET);
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const order: string[] = [];
  p.provider.registerHandler("echo", async (input) => {
    if (input.text === "first") await gate;
    order.push(String(input.text));
    return { text: String(input.text) };
  });
  const first = call(p.consumer, p.provider, { input_data: { text: "first" } });
  await new Promise((r) => setTimeout(r, 30));
  const queued = [];
  for (const text of ["a", "b", "c"]) {
    queued.push(call(p.consumer, p.provider, { input_data: { text } }));
    await new Promise((r) => setTimeout(r, 20)); // arrive in this order
  }
  assertEquals(p.provider.provider.queued, 3);
  assertEquals(p.provider.provider.load, 1);
  release();
  const replies = await Promise.all([first, ...queued]);
  assertEquals(
    replies.map((r) => [r.type, r.status, r.output_data.text]),
    ["first", "a", "b", "c"].map((t) => ["TASK_RESULT", "completed", t]),
  );
  assertEquals(order, ["first", "a", "b", "c"]);
  assertEquals(p.provider.provider.queued, 0);
});

Deno.test("RETRY_AFTER when the queued wait would outlast the task's deadline", async () => {
  await using p = await pair({ policy: { taskSlots: 1, maxQueueDepth: 10 } });
  await p.provider.announce(SHEET);
  p.provider.registerHandler("echo", async (input) => {
    await new Promise((r) => setTimeout(r, 200));
    return { text: String(input.text) };
  });
  // One run teaches the provider that a run takes about 200 ms.
  assertEquals((await call(p.consumer, p.provider)).status, "completed");
  const busy = call(p.consumer, p.provider);
  await new Promise((r) => setTimeout(r, 20));
  const r = await call(p.consumer, p.provider, { timeout_ms: 300 });
  assertEquals(r.error.code, "RETRY_AFTER");
  assertEquals(r.error.retry_after_seconds, 1);
  // With time enough it waits instead.
  const waited = await call(p.consumer, p.provider, { timeout_ms: 5000 });
  assertEquals(waited.status, "completed");
  assertEquals((await busy).status, "completed");
});

Deno.test("A queued fast task whose deadline passes leaves the queue with TIMEOUT, unrun and uncharged", async () => {
  await using p = await pair({ policy: { taskSlots: 1, maxQueueDepth: 10 } });
  await p.provider.announce({ ...SHEET, price: 1 });
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  let runs = 0;
  p.provider.registerHandler("echo", async (input) => {
    runs++;
    if (input.text === "block") await gate;
    return { text: String(input.text) };
  });
  const blocker = call(p.consumer, p.provider, {
    input_data: { text: "block" },
  });
  await new Promise((r) => setTimeout(r, 30));
  const started = performance.now();
  const late = await call(p.consumer, p.provider, { timeout_ms: 150 });
  const waited = performance.now() - started;
  assertEquals(late.error, {
    code: "TIMEOUT",
    message: "Task timed out while queued",
  });
  assert(waited >= 140 && waited < 2000, `waited ${waited} ms`);
  assertEquals(p.provider.provider.queued, 0);
  release();
  assertEquals((await blocker).status, "completed");
  assertEquals(runs, 1);
  const row = p.provider.ledger.get(p.consumer.identity.publicKey)!;
  assertEquals([row.tasksProvided, row.balance], [1, 3 - 1]);
});

Deno.test("PROVIDER_BUSY when the queue is full; slow skills are queued with their position and pushed", async () => {
  await using p = await pair({ policy: { taskSlots: 1, maxQueueDepth: 1 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await p.provider.announce({ ...SHEET, name: "slow" }, { slow: true });
  p.provider.registerHandler("slow", async (input) => {
    await gate;
    return { text: String(input.text) };
  });
  const first = await call(p.consumer, p.provider, {
    skill_name: "slow",
    input_data: { text: "one" },
  });
  assertEquals([first.type, first.status], ["TASK_STATUS", "accepted"]);
  const second = await call(p.consumer, p.provider, {
    skill_name: "slow",
    input_data: { text: "two" },
  });
  assertEquals([
    second.type,
    second.status,
    (second as unknown as { position: number }).position,
  ], [
    "TASK_STATUS",
    "queued",
    1,
  ]);
  const third = await call(p.consumer, p.provider, {
    skill_name: "slow",
    input_data: { text: "three" },
  });
  assertEquals(third.error.code, "PROVIDER_BUSY");
  release();
  await new Promise((r) => setTimeout(r, 200));
  await p.provider.provider.close();
});

Deno.test("TaskConsumer gets a slow skill's pushed result, and the ledger on both sides", async () => {
  await using p = await pair({ policy: { initialCredit: 3, minBalance: 0 } });
  await p.provider.announce({ ...SHEET, name: "slow", price: 2 }, {
    slow: true,
  });
  p.provider.registerHandler("slow", async (input) => {
    await new Promise((r) => setTimeout(r, 100));
    return { text: `done ${input.text}` };
  });
  const outcome = await p.consumer.request("slow", { text: "x" }, {
    timeoutMs: 5000,
  });
  assertEquals([outcome.status, outcome.output_data], ["completed", {
    text: "done x",
  }]);
  const providerView = p.provider.ledger.get(p.consumer.identity.publicKey)!;
  const consumerView = p.consumer.ledger.get(p.provider.identity.publicKey)!;
  assertEquals([
    providerView.balance,
    providerView.tasksProvided,
    providerView.tasksConsumed,
  ], [1, 1, 0]);
  assertEquals([
    consumerView.balance,
    consumerView.tasksProvided,
    consumerView.tasksConsumed,
  ], [5, 0, 1]);
});

Deno.test("Credit exhaustion: initial 3, min 0, price 1 → four calls succeed, the fifth is refused", async () => {
  await using p = await pair({ policy: { initialCredit: 3, minBalance: 0 } });
  await p.provider.announce(SHEET);
  echo(p.provider);
  const statuses: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await p.consumer.request("echo", { text: `${i}` });
    statuses.push(r.status === "completed" ? "ok" : String(r.error.code));
  }
  assertEquals(statuses, ["ok", "ok", "ok", "ok", "INSUFFICIENT_CREDIT"]);
  const last = await call(p.consumer, p.provider);
  assertEquals(last.error, {
    code: "INSUFFICIENT_CREDIT",
    message: "Balance -1.0 below minimum 0.0",
  });
  assertEquals(
    p.provider.ledger.get(p.consumer.identity.publicKey)!.balance,
    -1,
  );
  assertEquals(
    p.consumer.ledger.get(p.provider.identity.publicKey)!.balance,
    3 + 4,
  );
});

Deno.test("TaskConsumer tries the next provider on PROVIDER_BUSY", async () => {
  const busy = await node({ policy: { taskSlots: 1, maxQueueDepth: 0 } });
  const free = await node();
  const consumer = await node();
  await using _b = busy;
  await using _f = free;
  await using _c = consumer;
  for (const n of [busy, free, consumer]) await n.start({ maintenance: false });
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await busy.announce(SHEET);
  busy.registerHandler("echo", async () => {
    await gate;
    return { text: "busy" };
  });
  await free.announce(SHEET);
  free.registerHandler("echo", (i) => ({ text: `free ${i.text}` }));
  const blocker = call(consumer, busy);
  await new Promise((r) => setTimeout(r, 50));
  const providers = [
    {
      node_id: busy.nodeId,
      host: "127.0.0.1",
      port: busy.address.port,
      skill_sheet: {},
      sidecar_port: 0,
    },
    {
      node_id: free.nodeId,
      host: "127.0.0.1",
      port: free.address.port,
      skill_sheet: {},
      sidecar_port: 0,
    },
  ];
  const outcome = await consumer.consumer.request(
    "echo",
    { text: "x" },
    providers,
  );
  assertEquals(
    [outcome.status, outcome.output_data, outcome.provider?.node_id],
    [
      "completed",
      { text: "free x" },
      free.nodeId,
    ],
  );
  release();
  await blocker;
});

Deno.test("TaskConsumer waits retry_after_seconds after RETRY_AFTER and retries the same provider once", async () => {
  // Runs are capped at 0.5 s, so a 300 ms run ahead makes the wait outlast the deadline.
  await using p = await pair({
    policy: { taskSlots: 1, maxQueueDepth: 1, maxTaskTimeout: 0.5 },
  });
  await p.provider.announce(SHEET);
  let calls = 0;
  p.provider.registerHandler("echo", async (i) => {
    calls++;
    if (i.text === "block") await new Promise((r) => setTimeout(r, 300));
    return { text: String(i.text) };
  });
  assertEquals(
    (await p.consumer.request("echo", { text: "block" })).status,
    "completed",
  );
  calls = 0;
  const blocker = p.consumer.request("echo", { text: "block" });
  await new Promise((r) => setTimeout(r, 50));
  const started = performance.now();
  const outcome = await p.consumer.request("echo", { text: "after" });
  const waited = performance.now() - started;
  assertEquals([outcome.status, outcome.output_data], ["completed", {
    text: "after",
  }]);
  assert(waited >= 900, `waited ${waited} ms`);
  assertEquals((await blocker).status, "completed");
  assertEquals(calls, 2);
});
