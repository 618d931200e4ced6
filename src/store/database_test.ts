import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertThrows,
} from "../../tests/assert.ts";
import {
  Database,
  DEMAND_MAX_ROWS,
  DemandRepo,
  loadOrCreateIdentity,
  MIGRATIONS,
  SCHEMA_VERSION,
  StoreOpenError,
  TaskRepo,
} from "./mod.ts";
import type { Migration } from "./mod.ts";

function tempDb(): string {
  return join(Deno.makeTempDirSync({ prefix: "knarr-store-" }), "node.db");
}

function tables(db: Database): string[] {
  return db.all(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  ).map((r) => r.name as string);
}

Deno.test("Database.open() migrates a fresh file to the latest schema in WAL mode", async () => {
  const path = tempDb();
  await using db = Database.open(path);
  assertEquals(db.schemaVersion, SCHEMA_VERSION);
  assertEquals(tables(db), [
    "cockpit_token",
    "demand",
    "disabled_skills",
    "kad_contacts",
    "ledger",
    "node_identity",
    "peers",
    "schema_migrations",
    "sidecar_certificate",
    "skills",
    "task_results",
    "tasks",
  ]);
  assertEquals(db.get("PRAGMA journal_mode")?.journal_mode, "wal");
  assert(Number(db.get("PRAGMA busy_timeout")?.timeout) >= 1000);
  assertEquals(
    db.all("SELECT version, name FROM schema_migrations"),
    MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
  );
});

Deno.test("Database.open() applies only the new migrations to an existing file and keeps its data", async () => {
  const path = tempDb();
  {
    await using db = Database.open(path);
    db.run("INSERT INTO demand VALUES ('x', 'name', 3, 1, 2)");
  }
  const extra: Migration[] = [...MIGRATIONS, {
    version: SCHEMA_VERSION + 1,
    name: "add notes",
    sql:
      "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('from migration')",
  }];
  {
    await using db = Database.open(path, { migrations: extra });
    assertEquals(db.schemaVersion, SCHEMA_VERSION + 1);
    assertEquals(db.get("SELECT count FROM demand")?.count, 3);
    assertEquals(db.all("SELECT body FROM notes"), [{
      body: "from migration",
    }]);
  }
  // Reopening does not run anything twice.
  await using db = Database.open(path, { migrations: extra });
  assertEquals(db.all("SELECT body FROM notes").length, 1);
  assertEquals(
    db.all("SELECT version FROM schema_migrations").length,
    extra.length,
  );
});

Deno.test("Database.open() rolls back a failing migration entirely", () => {
  const path = tempDb();
  const bad: Migration[] = [...MIGRATIONS, {
    version: SCHEMA_VERSION + 1,
    name: "bad",
    sql: "CREATE TABLE t (a); SELECT * FROM missing",
  }];
  assertThrows(() => Database.open(path, { migrations: bad }), StoreOpenError);
  const db = Database.open(path);
  try {
    assertEquals(db.schemaVersion, SCHEMA_VERSION);
    assert(!tables(db).includes("t"));
  } finally {
    db.close();
  }
});

Deno.test("Database.open() refuses a database written by a newer schema", () => {
  const path = tempDb();
  Database.open(path).close();
  const newer: Migration[] = [...MIGRATIONS, {
    version: SCHEMA_VERSION + 5,
    name: "future",
    sql: "SELECT 1",
  }];
  Database.open(path, { migrations: newer }).close();
  const error = (() => {
    try {
      Database.open(path);
    } catch (e) {
      return e as Error;
    }
  })();
  assert(error instanceof StoreOpenError);
  assertMatch(
    error.message,
    /written by a newer knarr \(schema \d+, this knarr knows up to \d+\); upgrade knarr/,
  );
});

Deno.test("Database.open() reports a corrupt file and leaves it untouched", () => {
  const path = tempDb();
  const garbage = new TextEncoder().encode(
    "this is not sqlite at all, just some text padding it out".repeat(100),
  );
  Deno.writeFileSync(path, garbage);
  const error = (() => {
    try {
      Database.open(path);
    } catch (e) {
      return e as Error;
    }
  })();
  assert(error instanceof StoreOpenError);
  assertMatch(
    error.message,
    /Cannot open database ".*node\.db": the file is corrupt or not a knarr database/,
  );
  assertEquals(Deno.readFileSync(path), garbage);
});

Deno.test("loadOrCreateIdentity() creates once and returns the same identity after reopening", async () => {
  const path = tempDb();
  let first;
  {
    await using db = Database.open(path);
    first = await loadOrCreateIdentity(db);
    assertEquals((await loadOrCreateIdentity(db)).nodeId, first.nodeId);
  }
  await using db = Database.open(path);
  const again = await loadOrCreateIdentity(db);
  assertEquals(again.nodeId, first.nodeId);
  assertEquals(again.publicKey, first.publicKey);
  assertEquals(db.all("SELECT length(key_bytes) AS n FROM node_identity"), [{
    n: 32,
  }]);
});

Deno.test("loadOrCreateIdentity() loads a seed stored by another implementation", async () => {
  await using db = Database.open(":memory:");
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  db.run("INSERT INTO node_identity (key_bytes) VALUES (?)", seed);
  const id = await loadOrCreateIdentity(db);
  assertEquals(
    id.nodeId,
    "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c",
  );
});

Deno.test("DemandRepo counts repeats, sorts by count and evicts the oldest beyond the cap", async () => {
  await using db = Database.open(":memory:");
  const demand = new DemandRepo(db);
  demand.record("name", "translate", 100);
  demand.record("name", "translate", 200);
  demand.record("tag", "nlp", 150);
  assertEquals(demand.list(), [
    {
      queryValue: "translate",
      queryType: "name",
      count: 2,
      firstSeen: 100,
      lastSeen: 200,
    },
    {
      queryValue: "nlp",
      queryType: "tag",
      count: 1,
      firstSeen: 150,
      lastSeen: 150,
    },
  ]);
  for (let i = 0; i < DEMAND_MAX_ROWS; i++) {
    demand.record("name", `q${i}`, 1000 + i);
  }
  const rows = demand.list();
  assertEquals(rows.length, DEMAND_MAX_ROWS);
  assert(
    !rows.some((r) => r.queryValue === "translate" || r.queryValue === "nlp"),
  );
});

Deno.test("Migration 3 keeps the task history; consumer rows are still replaced by task id, provider rows appended", () => {
  const path = tempDb();
  const old = Database.open(path, { migrations: MIGRATIONS.slice(0, 2) });
  const insert =
    `INSERT INTO tasks (task_id, role, skill_name, peer_node_id, peer_public_key, status, error_code,
       price, created_at, finished_at, wall_ms) VALUES (?, ?, 'echo', 'p', 'k', ?, NULL, 1, ?, ?, 5)`;
  old.run(insert, "t1", "consumer", "completed", 10, 11);
  old.run(insert, "t1", "provider", "completed", 12, 13);
  old.close();
  const db = Database.open(path);
  try {
    assertEquals(db.schemaVersion, SCHEMA_VERSION);
    const tasks = new TaskRepo(db);
    assertEquals([tasks.count("consumer"), tasks.count("provider")], [1, 1]);
    const row = {
      taskId: "t1",
      skillName: "echo",
      peerNodeId: "p",
      peerPublicKey: "k",
      status: "failed",
      errorCode: "TIMEOUT",
      price: 0,
      createdAt: 20,
      finishedAt: 21,
      wallMs: 1,
    };
    tasks.put({ ...row, role: "consumer" });
    tasks.put({ ...row, role: "provider" });
    assertEquals([tasks.count("consumer"), tasks.count("provider")], [1, 2]);
    assertEquals(
      db.get("SELECT status FROM tasks WHERE role = 'consumer'")?.status,
      "failed",
    );
    assertEquals(tasks.history(0)[0]?.total, 1);
    assertEquals(db.get("PRAGMA integrity_check")?.integrity_check, "ok");
  } finally {
    db.close();
  }
});
