import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
} from "../../tests/assert.ts";
import { Logger } from "../util/mod.ts";
import {
  Database,
  isStorageFault,
  probeWrite,
  storageFault,
  StorageHealth,
  StorageUnavailableError,
} from "./mod.ts";

const FULL = { errcode: 13, errstr: "database or disk is full" };

Deno.test("storageFault() names the problem and the fix for storage errors, and nothing else", () => {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-fault-" });
  const path = join(dir, "node.db");
  assertEquals(
    storageFault(FULL, path),
    `Cannot write to database "${path}": disk full — free space on the disk that holds "${dir}"`,
  );
  assertMatch(
    storageFault({ errcode: 778, errstr: "disk I/O error" }, path)!,
    /: disk I\/O error \(disk I\/O error\) — check the disk/,
  );
  assertMatch(
    storageFault({ errcode: 8 }, path, "open")!,
    /^Cannot open database ".*": the file or its file system is read-only/,
  );
  // Opening a file throws without a result code: SQLite's text says which.
  const cantOpen = {
    code: "ERR_SQLITE_ERROR",
    message: `unable to open database file: ${path}`,
  };
  assert(isStorageFault(cantOpen));
  assertMatch(storageFault(cantOpen, path, "open")!, /cannot open the file/);
  // A constraint, a busy lock or a plain error says nothing about the disk.
  assertEquals(storageFault({ errcode: 19 }, path), null);
  assertEquals(storageFault({ errcode: 5 }, path), null);
  assertEquals(storageFault(new Error("boom"), path), null);
  assert(!isStorageFault({ errcode: 2067 }));
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("StorageHealth logs one line when commits start failing, refuses with StorageUnavailableError, and recovers on the next good commit", async () => {
  await using db = Database.open(":memory:");
  const lines: string[] = [];
  const health = new StorageHealth(db, {
    logger: new Logger({ sink: (l) => lines.push(l) }),
    probeIntervalMs: 60_000,
  });
  try {
    for (let i = 0; i < 2; i++) {
      await assertRejects(
        health.track(Promise.reject(FULL)),
        StorageUnavailableError,
      );
    }
    assert(!health.available);
    assertMatch(health.fault!, /disk full/);
    assertEquals(lines.length, 1);
    assertMatch(lines[0]!, /ERROR .*disk full .*paid tasks are refused/);
    // Other errors pass through and say nothing about the storage.
    await assertRejects(
      health.track(Promise.reject(new RangeError("no"))),
      RangeError,
    );
    assertEquals(await health.track(Promise.resolve(7)), 7);
    assert(health.available);
    assertMatch(lines[1]!, /INFO .*takes writes again/);
    assertEquals(probeWrite(db), null);
    assert(health.probe());
  } finally {
    health.close();
  }
});
