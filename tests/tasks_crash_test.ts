import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import { Database, LedgerRepo, TaskRepo } from "../src/store/mod.ts";

const FIXTURE =
  new URL("./fixtures/provider_process.ts", import.meta.url).pathname;

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
