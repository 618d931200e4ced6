import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { DEFAULT_POLICY, KnarrNode } from "../src/node/mod.ts";
import { Database, LedgerRepo, TaskRepo } from "../src/store/mod.ts";

const FIXTURE =
  new URL("./fixtures/provider_process.ts", import.meta.url).pathname;

/** Starts the provider fixture on `storage` (and `port`, 0 = any); resolves its port. */
async function startFixture(
  storage: string,
  port = 0,
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", FIXTURE, storage, String(port)],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/PORT \d+/.test(text)) text += (await reader.read()).value ?? "";
  await reader.cancel();
  return { child, port: Number(/PORT (\d+)/.exec(text)![1]) };
}

Deno.test("kill -9 of a provider during a run of tasks loses no acknowledged ledger entry", async () => {
  const storage = join(
    Deno.makeTempDirSync({ prefix: "knarr-crash-" }),
    "provider.db",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", FIXTURE, storage],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/PORT \d+/.test(text)) text += (await reader.read()).value ?? "";
  const port = Number(/PORT (\d+)/.exec(text)![1]);
  await reader.cancel();

  await using consumer = await KnarrNode.create({ host: "127.0.0.1" });
  await consumer.start({ maintenance: false });
  await consumer.join([{ host: "127.0.0.1", port }]);
  let acknowledged = 0;
  const runs = (async () => {
    for (;;) {
      const r = await consumer.request("echo", { text: `t${acknowledged}` }, {
        timeoutMs: 2000,
      });
      if (r.status !== "completed") return;
      acknowledged++;
    }
  })();
  while (acknowledged < 40) await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGKILL");
  await child.status;
  await runs;
  assert(acknowledged >= 40);

  // The database opens cleanly and holds every acknowledged task's ledger entry.
  const db = Database.open(storage);
  try {
    assertEquals(db.get("PRAGMA integrity_check")?.integrity_check, "ok");
    const row = new LedgerRepo(db).get(consumer.identity.publicKey)!;
    assert(
      row.tasksProvided >= acknowledged,
      `${row.tasksProvided} < ${acknowledged}`,
    );
    assert(row.tasksProvided <= acknowledged + 1);
    assertEquals(row.balance, 1e9 - row.tasksProvided);
    assert(new TaskRepo(db).count("provider") >= acknowledged);
  } finally {
    db.close();
  }
});

Deno.test("kill -9 and restarts of a provider while a consumer retries by task id: every acknowledged task charged exactly once, none twice", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-crash-" });
  const storage = join(dir, "provider.db");
  let provider = await startFixture(storage);
  const port = provider.port;
  await using consumer = await KnarrNode.create({
    host: "127.0.0.1",
    storage: join(dir, "consumer.db"),
  });
  await consumer.start({ maintenance: false });
  await consumer.join([{ host: "127.0.0.1", port }]);
  const [target] = await consumer.query({ name: "echo" });
  assert(target);
  const acknowledged = new Set<string>();
  let next = 0;
  const TASKS = 150;
  const worker = async () => {
    while (next < TASKS) {
      const text = `t${next++}`;
      // An attempt without an answer is asked again with the same task id.
      const taskId = crypto.randomUUID();
      for (;;) {
        const r = await consumer.consumer.request("echo", { text }, [target], {
          timeoutMs: 5000,
          taskId,
        });
        if (r.status === "completed") {
          assertEquals(r.output_data, { text });
          acknowledged.add(r.task_id);
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const killer = async () => {
    for (const at of [40, 80, 120]) {
      while (acknowledged.size < at) {
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      provider.child.kill("SIGKILL");
      await provider.child.status;
      provider = await startFixture(storage, port);
    }
  };
  await Promise.all([killer(), worker(), worker(), worker(), worker()]);
  provider.child.kill("SIGKILL");
  await provider.child.status;

  const db = Database.open(storage);
  try {
    const charged = db.all(
      `SELECT task_id, COUNT(*) AS n FROM tasks WHERE role = 'provider' AND status = 'completed'
       AND peer_public_key = ? GROUP BY task_id`,
      consumer.identity.publicKey,
    );
    assertEquals(charged.filter((r) => Number(r.n) > 1), []);
    assertEquals(
      new Set(charged.map((r) => r.task_id as string)),
      acknowledged,
    );
    const row = new LedgerRepo(db).get(consumer.identity.publicKey)!;
    assertEquals(row.tasksProvided, TASKS);
    assertEquals(row.balance, 1e9 - TASKS);
  } finally {
    db.close();
  }
  // The consumer credited each acknowledged task once (its only account: the provider).
  const accounts = consumer.ledger.list();
  assertEquals(accounts.length, 1);
  assertEquals(accounts[0]!.tasksConsumed, TASKS);
  assertEquals(accounts[0]!.balance, DEFAULT_POLICY.initialCredit + TASKS);
});
