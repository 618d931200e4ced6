import { join } from "node:path";
import { assert, assertEquals } from "../../tests/assert.ts";
import { Database, SkillRepo } from "../store/mod.ts";
import type { SkillEntry } from "./skill_table.ts";
import { SkillTable } from "./skill_table.ts";

function provider(n: number): string {
  return n.toString(16).padStart(64, "0");
}

function skill(
  name: string,
  p: number,
  announcedAt: number,
  isOwn = false,
): Omit<SkillEntry, "tags"> {
  return {
    skillKey: name,
    providerNodeId: provider(p),
    sheet: { name, description: "d", tags: [], input_schema: {} },
    isOwn,
    visibility: "public",
    announcedAt,
    ttl: 1800,
    publicKey: "",
    signature: "",
    msgId: `${name}-${announcedAt}`,
    sidecarPort: 0,
    host: "10.0.0.1",
    port: 9000,
  };
}

Deno.test("SkillTable.put() refuses a provider's new skills past maxSkillsPerProvider, still refreshes its own", () => {
  const table = new SkillTable(null, { maxSkillsPerProvider: 3 });
  const stored = ["a", "b", "c", "d"].map((n) => table.put(skill(n, 1, 100)));
  // Before: one key could store any number of skills (a flood of ANNOUNCEs with new names).
  assertEquals(stored.map((e) => e !== null), [true, true, true, false]);
  assert(table.put(skill("a", 1, 200)) !== null);
  assertEquals(table.get("a", provider(1))?.announcedAt, 200);
  assert(table.put(skill("d", 2, 100)) !== null);
  // Own skills are never limited.
  for (const n of ["x", "y", "z", "w"]) {
    assert(table.put(skill(n, 1, 100, true)) !== null);
  }
  assertEquals(table.stats, { refused: 1, evicted: 0 });
});

Deno.test("SkillTable keeps at most maxRemoteSkills: the longest unannounced skill of a provider not kept gives way", () => {
  const kept = new Set([provider(1)]);
  const table = new SkillTable(null, {
    maxRemoteSkills: 4,
    keep: (p) => kept.has(p),
  });
  table.put(skill("own", 9, 50, true));
  table.put(skill("kept", 1, 90));
  table.put(skill("old", 2, 100));
  table.put(skill("newer", 3, 110));
  table.put(skill("newest", 4, 120));
  // "old" is refreshed: it is now the most recently announced.
  table.put(skill("old", 2, 130));
  assert(table.put(skill("fresh", 5, 140)) !== null);
  assertEquals(
    table.list().map((e) => e.skillKey).sort(),
    ["fresh", "kept", "newest", "old", "own"],
  );
  assertEquals(table.stats.evicted, 1);
  // Full of kept skills only: newcomers are refused.
  const full = new SkillTable(null, { maxRemoteSkills: 1, keep: () => true });
  full.put(skill("kept", 1, 90));
  assertEquals(full.put(skill("new", 2, 100)), null);
  assertEquals(full.stats.refused, 1);
});

Deno.test("SkillTable loads at most the limits from the store, the most recently announced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-skills-" });
  try {
    const path = join(dir, "node.db");
    {
      await using db = Database.open(path);
      const table = new SkillTable(new SkillRepo(db));
      for (let i = 0; i < 6; i++) table.put(skill(`s${i}`, i % 2, 100 + i));
      table.put(skill("mine", 7, 1, true));
    }
    await using db = Database.open(path);
    const table = new SkillTable(new SkillRepo(db), {
      maxRemoteSkills: 3,
      maxSkillsPerProvider: 2,
    });
    assertEquals(
      table.list().map((e) => e.skillKey).sort(),
      ["mine", "s3", "s4", "s5"],
    );
    assertEquals(new SkillRepo(db).list().length, 4);
    // Oldest first still: the next newcomer replaces s3.
    table.put(skill("t", 3, 200));
    assertEquals(table.get("s3", provider(1)), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SkillTable.largestOwnInput() follows own skills as they come and go", () => {
  const table = new SkillTable(null);
  assertEquals(table.largestOwnInput(), 0);
  const own = (name: string, maxInputSize?: number) => ({
    skillKey: name,
    providerNodeId: "a".repeat(64),
    sheet: {
      name,
      ...(maxInputSize === undefined ? {} : { max_input_size: maxInputSize }),
    },
    isOwn: true,
    visibility: "public",
    announcedAt: 1,
    ttl: 60,
    publicKey: "",
    signature: "",
    msgId: "",
    sidecarPort: 0,
    host: "",
    port: 0,
  });
  table.put(own("small"));
  assertEquals(table.largestOwnInput(), 65_536);
  table.put(own("large", 900_000));
  assertEquals(table.largestOwnInput(), 900_000);
  // A remote skill's limit is not ours.
  table.put({
    ...own("remote", 5_000_000),
    providerNodeId: "b".repeat(64),
    isOwn: false,
  });
  assertEquals(table.largestOwnInput(), 900_000);
  table.remove("large", "a".repeat(64));
  assertEquals(table.largestOwnInput(), 65_536);
});
