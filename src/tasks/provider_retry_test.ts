import { join } from "node:path";
import { assert, assertEquals } from "../../tests/assert.ts";
import { ECHO_SHEET } from "../../tests/fixtures/sheets.ts";
import { Identity } from "../crypto/mod.ts";
import { buildSheet, SYSTEM_CLOCK } from "../discovery/mod.ts";
import type { Reply } from "../discovery/mod.ts";
import {
  Database,
  GroupCommit,
  LedgerRepo,
  TaskRepo,
  TaskResultRepo,
} from "../store/mod.ts";
import { signMessage } from "../wire/mod.ts";
import type { TaskRequest } from "../wire/mod.ts";
import { TaskProvider } from "./mod.ts";
import type { ExecutableSkill, SkillExecutor, TaskPolicy } from "./mod.ts";

const POLICY: TaskPolicy = {
  initialCredit: 3,
  minBalance: -10,
  titForTat: false,
  taskSlots: 4,
  maxQueueDepth: 100,
  maxTaskTimeout: 0,
};

const SKILL: ExecutableSkill = {
  name: "echo",
  sheet: buildSheet(ECHO_SHEET),
  visibility: "public",
  allowedNodes: [],
  slow: false,
};

/** An echo executor that counts its runs. */
function echo(): SkillExecutor & { runs: number } {
  return {
    runs: 0,
    get: (name) => name === "echo" ? SKILL : undefined,
    run(_name, input) {
      this.runs++;
      return Promise.resolve({
        status: "ok",
        output: { text: String(input.text) },
      });
    },
  };
}

/** A provider over the database at `path`; `afterCommit` runs once a write is on disk. */
function provider(
  db: Database,
  executor: SkillExecutor,
  afterCommit: () => void = () => {},
): TaskProvider {
  const commits = new GroupCommit(db);
  return new TaskProvider({
    selfNodeId: "f".repeat(64),
    executor,
    ledger: new LedgerRepo(db),
    tasks: new TaskRepo(db),
    results: new TaskResultRepo(db),
    clock: SYSTEM_CLOCK,
    send: () => Promise.resolve(null),
    commit: async (write, options) => {
      const value = await commits.write(write, options);
      afterCommit();
      return value;
    },
  }, POLICY);
}

/** The fields of a TASK_RESULT reply. */
function result(reply: Reply): {
  status: string;
  output_data: unknown;
  code: unknown;
} {
  assertEquals(reply.type, "TASK_RESULT");
  const f = reply.fields as {
    status: string;
    output_data: unknown;
    error: { code?: unknown };
  };
  return { status: f.status, output_data: f.output_data, code: f.error.code };
}

async function request(
  requester: Identity,
  taskId: string,
): Promise<TaskRequest> {
  return await signMessage("TASK_REQUEST", {
    task_id: taskId,
    requester_node_id: requester.nodeId,
    requester_host: "127.0.0.1",
    requester_port: 9,
    skill_name: "echo",
    input_data: { text: "hello" },
    timeout_ms: 5000,
  }, requester) as TaskRequest;
}

Deno.test("TaskProvider charges a task once when its result was committed but never sent, and answers the retry after a restart from the store", async () => {
  const path = join(
    Deno.makeTempDirSync({ prefix: "knarr-retry-" }),
    "node.db",
  );
  const requester = await Identity.fromSeed(
    crypto.getRandomValues(new Uint8Array(32)),
  );
  const taskId = crypto.randomUUID();
  const executor = echo();
  {
    // The process dies between the commit and the reply: the charge is on disk, the
    // result never leaves.
    await using db = Database.open(path);
    const p = provider(db, executor, () => {
      throw new Error("killed after the commit");
    });
    let died = false;
    try {
      await p.handleRequest(await request(requester, taskId), requester.nodeId);
    } catch {
      died = true;
    }
    assert(died);
    await p.close();
  }
  await using db = Database.open(path);
  const restarted = provider(db, executor);
  const retry = await restarted.handleRequest(
    await request(requester, taskId),
    requester.nodeId,
  );
  assertEquals(result(retry).status, "completed");
  assertEquals(result(retry).output_data, { text: "hello" });
  assertEquals(executor.runs, 1, "the retry must not run the task again");
  const row = new LedgerRepo(db).get(requester.publicKey)!;
  assertEquals(row.tasksProvided, 1);
  assertEquals(row.balance, POLICY.initialCredit - 1);

  // Another requester reusing the task id gets neither the result nor a run.
  const other = await Identity.fromSeed(
    crypto.getRandomValues(new Uint8Array(32)),
  );
  const stolen = await restarted.handleRequest(
    await request(other, taskId),
    other.nodeId,
  );
  assertEquals(result(stolen).code, "DUPLICATE_REQUEST");
  assertEquals(executor.runs, 1);
  await restarted.close();
});

Deno.test("TaskProvider tells a retry of a task id that is still running to ask again, and runs it once", async () => {
  await using db = Database.open(":memory:");
  const requester = await Identity.fromSeed(
    crypto.getRandomValues(new Uint8Array(32)),
  );
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const executor = echo();
  const slow: SkillExecutor = {
    get: executor.get,
    async run(name, input, ctx) {
      await gate;
      return await executor.run(name, input, ctx);
    },
  };
  const p = provider(db, slow);
  const taskId = crypto.randomUUID();
  const first = p.handleRequest(
    await request(requester, taskId),
    requester.nodeId,
  );
  const again = await p.handleRequest(
    await request(requester, taskId),
    requester.nodeId,
  );
  assertEquals(result(again).code, "RETRY_AFTER");
  release();
  assertEquals(result(await first).status, "completed");
  const third = await p.handleRequest(
    await request(requester, taskId),
    requester.nodeId,
  );
  assertEquals(result(third).status, "completed");
  assertEquals(result(third).output_data, { text: "hello" });
  assertEquals(executor.runs, 1);
  assertEquals(new LedgerRepo(db).get(requester.publicKey)!.tasksProvided, 1);
  await p.close();
});
