import { join } from "node:path";
import { assertEquals } from "../../tests/assert.ts";
import { Database, KadContactRepo, MIGRATIONS } from "./mod.ts";

Deno.test("KadContactRepo keeps contacts across reopen and migrates a version 3 file", () => {
  const path = join(Deno.makeTempDirSync({ prefix: "knarr-kad-" }), "n.db");
  Database.open(path, { migrations: MIGRATIONS.slice(0, 3) }).close();
  {
    const db = Database.open(path);
    const repo = new KadContactRepo(db);
    repo.put({
      nodeId: "b".repeat(64),
      host: "10.0.0.2",
      port: 9001,
      lastSeen: 5,
    });
    repo.put({
      nodeId: "a".repeat(64),
      host: "10.0.0.1",
      port: 9000,
      lastSeen: 1,
    });
    repo.put({
      nodeId: "a".repeat(64),
      host: "10.0.0.1",
      port: 9009,
      lastSeen: 7.5,
    });
    repo.remove("b".repeat(64));
    db.close();
  }
  const db = Database.open(path);
  try {
    assertEquals(new KadContactRepo(db).list(), [
      { nodeId: "a".repeat(64), host: "10.0.0.1", port: 9009, lastSeen: 7.5 },
    ]);
  } finally {
    db.close();
  }
});
