import { join } from "node:path";
import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { Database, GroupCommit, LedgerRepo } from "./mod.ts";

const KEY_A = "aa".repeat(32);
const KEY_B = "bb".repeat(32);

function tempDb(): string {
  return join(Deno.makeTempDirSync({ prefix: "knarr-group-" }), "node.db");
}

Deno.test("GroupCommit: writes queued in one turn share one transaction and are on disk when they resolve", async () => {
  const path = tempDb();
  const db = Database.open(path);
  const ledger = new LedgerRepo(db);
  const commits = new GroupCommit(db);
  const done = Array.from(
    { length: 50 },
    (_, i) =>
      commits.write(() =>
        ledger.apply(i % 2 ? KEY_A : KEY_B, -1, "provided", 100, i)
      ),
  );
  assertEquals(commits.pending, 50);
  const rows = await Promise.all(done);
  assertEquals([commits.commits, commits.writes, commits.pending], [1, 50, 0]);
  assertEquals(rows[49]!.tasksProvided, 25);
  // A second connection (another process would see the same) reads every write.
  const other = Database.open(path);
  assertEquals(new LedgerRepo(other).get(KEY_A)!.balance, 75);
  assertEquals(new LedgerRepo(other).get(KEY_B)!.tasksProvided, 25);
  other.close();
  db.close();
});

Deno.test("GroupCommit: a write that throws rejects alone; the rest of its batch commits", async () => {
  const db = Database.open(":memory:");
  const ledger = new LedgerRepo(db);
  const commits = new GroupCommit(db);
  const first = commits.write(() => ledger.apply(KEY_A, -1, "provided", 10, 0));
  const bad = commits.write(() => {
    db.run("INSERT INTO no_such_table VALUES (1)");
  });
  const last = commits.write(() => ledger.apply(KEY_B, -2, "provided", 10, 0));
  assertEquals((await first).balance, 9);
  await assertRejects(() => bad, Error, "no_such_table");
  assertEquals((await last).balance, 8);
  // Nothing was applied twice by the retry.
  assertEquals(ledger.get(KEY_A)!.tasksProvided, 1);
  assertEquals(ledger.get(KEY_B)!.tasksProvided, 1);
  db.close();
});

Deno.test("GroupCommit: flush() commits at once; a full batch commits without waiting", async () => {
  const db = Database.open(":memory:");
  const ledger = new LedgerRepo(db);
  const commits = new GroupCommit(db, { maxBatch: 3 });
  const three = [1, 2, 3].map((i) =>
    commits.write(() => ledger.apply(KEY_A, -i, "provided", 0, 0))
  );
  assertEquals([commits.commits, commits.pending], [1, 0]);
  const fourth = commits.write(() => ledger.apply(KEY_A, -4, "provided", 0, 0));
  commits.flush();
  assertEquals(commits.commits, 2);
  await Promise.all(three);
  assertEquals((await fourth).balance, -10);
  db.close();
});

Deno.test("Database.transaction nests as a savepoint: an inner throw undoes only the inner part", () => {
  const db = Database.open(":memory:");
  const ledger = new LedgerRepo(db);
  db.transaction(() => {
    ledger.apply(KEY_A, -1, "provided", 10, 0);
    try {
      db.transaction(() => {
        ledger.apply(KEY_B, -1, "provided", 10, 0);
        throw new Error("inner");
      });
    } catch { /* expected */ }
  });
  assertEquals(ledger.get(KEY_A)!.balance, 9);
  assertEquals(ledger.get(KEY_B), undefined);
  assertEquals(db.inTransaction, false);
  db.close();
});
