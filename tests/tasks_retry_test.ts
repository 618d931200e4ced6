import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { ECHO_SHEET } from "./fixtures/sheets.ts";

Deno.test("KnarrNode asked again for a task id (after a lost answer or a restart) answers with the stored result; both ledgers count it once", async () => {
  const storage = join(
    Deno.makeTempDirSync({ prefix: "knarr-retry-" }),
    "provider.db",
  );
  let runs = 0;
  const serve = async () => {
    const node = await KnarrNode.create({ storage, host: "127.0.0.1" });
    await node.start({ maintenance: false });
    await node.announce(ECHO_SHEET);
    node.registerHandler("echo", (input) => {
      runs++;
      return { text: `${input.text} #${runs}` };
    });
    return node;
  };
  await using consumer = await KnarrNode.create({ host: "127.0.0.1" });
  await consumer.start({ maintenance: false });
  let provider = await serve();
  await consumer.join([provider.address]);
  const [target] = await consumer.query({ name: "echo" });
  assert(target);
  const taskId = crypto.randomUUID();
  const ask = (port: number) =>
    consumer.consumer.request("echo", { text: "hi" }, [{ ...target, port }], {
      taskId,
      timeoutMs: 5_000,
    });
  const first = await ask(provider.address.port);
  assertEquals(first.task_id, taskId);
  assertEquals(first.output_data, { text: "hi #1" });
  assertEquals(await ask(provider.address.port), first);

  // A restarted provider (same store, new port) still knows the task id.
  await provider.close();
  provider = await serve();
  try {
    assertEquals(await ask(provider.address.port), {
      ...first,
      provider: { ...first.provider!, port: provider.address.port },
    });
    assertEquals(runs, 1);
    assertEquals(
      provider.ledger.get(consumer.identity.publicKey)!.tasksProvided,
      1,
    );
  } finally {
    await provider.close();
  }
  const [account] = consumer.ledger.list();
  assertEquals(account!.tasksConsumed, 1);

  await assertRejects(
    () => consumer.consumer.request("echo", {}, [target], { taskId: "" }),
    TypeError,
  );
});
