/** A task as the provider holds it, and the store write that records how it ended. */
import type { Clock, Reply } from "../discovery/mod.ts";
import { isStorageFault } from "../store/mod.ts";
import type { LedgerRepo, TaskRepo } from "../store/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { JsonObject, TaskRequest } from "../wire/mod.ts";
import type { ExecutableSkill } from "./types.ts";
import type { TaskMemory } from "./_task_memory.ts";

/** An admitted task: running, or waiting in its skill's queue. */
export interface Queued {
  request: TaskRequest;
  skill: ExecutableSkill;
  senderNodeId: string;
  input: JsonObject;
  timeoutMs: number;
  /** When it was admitted (clock seconds): a queued run gets what is left of its deadline. */
  admittedAt: number;
  /** A fast task's waiting caller; slow tasks push their result instead. */
  resolve?: (reply: Reply<"TASK_RESULT">) => void;
  /** A queued fast task's deadline. */
  timer?: ReturnType<typeof setTimeout>;
}

/** What {@linkcode taskWrite} needs. */
export interface TaskWriteDeps {
  selfNodeId: string;
  ledger: LedgerRepo;
  tasks: TaskRepo;
  clock: Clock;
  initialCredit: number;
  log: Logger;
  /** Stores a charged task's output for retries of its task id. */
  memory: TaskMemory;
}

/**
 * The write that records how a task ended: the ledger entry of a completed task
 * (charged `price`; a node calling itself is not charged) with its stored result, and
 * the history row. A ledger or result write that fails throws; a history row that fails
 * is only logged. Returns the stored result's row id (null when none was stored).
 */
export function taskWrite(
  job: Queued,
  reply: Reply<"TASK_RESULT">,
  price: number,
  started: number,
  wallMs: number,
  deps: TaskWriteDeps,
): () => number | null {
  const { request } = job;
  const status = reply.fields.status as string;
  const error = reply.fields.error as JsonObject | undefined;
  const charge = status === "completed" && job.senderNodeId !== deps.selfNodeId;
  return () => {
    const now = deps.clock.now();
    let stored: number | null = null;
    if (charge) {
      deps.ledger.apply(
        request.public_key,
        -price,
        "provided",
        deps.initialCredit,
        now,
      );
      stored = deps.memory.store(
        request,
        reply.fields.output_data as JsonObject,
        now,
      );
    }
    try {
      deps.tasks.put({
        taskId: request.task_id,
        role: "provider",
        skillName: job.skill.name,
        peerNodeId: job.senderNodeId,
        peerPublicKey: request.public_key,
        status,
        errorCode: (error?.code as string | undefined) ?? null,
        price,
        createdAt: started,
        finishedAt: now,
        wallMs,
      });
    } catch (e) {
      // The disk failing fails the whole write: its ledger entry must not commit alone.
      if (isStorageFault(e)) throw e;
      deps.log.warn(
        `Cannot record task ${request.task_id}: ${(e as Error).message}`,
      );
    }
    return stored;
  };
}
