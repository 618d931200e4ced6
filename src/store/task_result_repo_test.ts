import { assertEquals } from "../../tests/assert.ts";
import { Database, TaskResultRepo } from "./mod.ts";

Deno.test("TaskResultRepo.recent() lists the newest results oldest first, task ids with newlines and pruned rows included", async () => {
  await using db = Database.open(":memory:");
  const repo = new TaskResultRepo(db);
  const ids = ["a", "b\nc", "d", "e", "f"].map((t) =>
    repo.put(t, "ab".repeat(32), "{}", 1)
  );
  const seen = () => {
    const out: [string, number][] = [];
    repo.recent(3, (taskId, id) => out.push([taskId, id]));
    return out;
  };
  assertEquals(seen(), [["d", ids[2]!], ["e", ids[3]!], ["f", ids[4]!]]);
  assertEquals(repo.pruneBelow(ids[3]!), 3);
  assertEquals(seen(), [["e", ids[3]!], ["f", ids[4]!]]);
  const all: string[] = [];
  repo.put("g\nh", "ab".repeat(32), '{"x":1}', 2);
  repo.recent(10, (taskId) => all.push(taskId));
  assertEquals(all, ["e", "f", "g\nh"]);
  assertEquals(repo.get(ids[4]!)?.taskId, "f");
  assertEquals(repo.get(ids[0]!), undefined);
});
