import { join } from "node:path";
import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { loadOrCreateCockpitToken } from "./cockpit_token.ts";
import { Database } from "./database.ts";
import { DisabledSkillRepo } from "./disabled_skill_repo.ts";

function tempDb(): string {
  return join(Deno.makeTempDirSync({ prefix: "knarr-cockpit-db-" }), "n.db");
}

Deno.test("loadOrCreateCockpitToken() creates a random token once and keeps it across reopening", async () => {
  const path = tempDb();
  let first: string;
  {
    await using db = Database.open(path);
    first = loadOrCreateCockpitToken(db);
    assertMatch(first, /^[0-9a-f]{64}$/);
    assertEquals(loadOrCreateCockpitToken(db), first);
  }
  await using db = Database.open(path);
  assertEquals(loadOrCreateCockpitToken(db), first);
  await using other = Database.open(":memory:");
  assertEquals(loadOrCreateCockpitToken(other) === first, false);
});

Deno.test("DisabledSkillRepo keeps disabled skills across reopening until enabled", async () => {
  const path = tempDb();
  {
    await using db = Database.open(path);
    const repo = new DisabledSkillRepo(db);
    repo.set("echo", true);
    repo.set("echo", true);
    repo.set("alpha", true);
    repo.set("never", false);
    assertEquals(repo.list(), ["alpha", "echo"]);
  }
  await using db = Database.open(path);
  const repo = new DisabledSkillRepo(db);
  assertEquals(repo.list(), ["alpha", "echo"]);
  repo.set("alpha", false);
  assertEquals(repo.list(), ["echo"]);
});
