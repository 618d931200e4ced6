/** A task as the provider holds it, and the store write that records how it ended. */
import type { Clock, Reply } from "../discovery/mod.ts";
import type { LedgerRepo, TaskRepo } from "../store/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { JsonObject, TaskRequest } from "../wire/mod.ts";
import type { ExecutableSkill } from "./types.ts";

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
}

/**
 * The write that records how a task ended: the ledger entry of a completed task
 * (charged `price`; a node calling itself is not charged) and the history row. A
 * ledger write that fails throws; a history row that fails is only logged.
 */
export function taskWrite(
  job: Queued,
  reply: Reply<"TASK_RESULT">,
  price: number,
  started: number,
  wallMs: number,
  deps: TaskWriteDeps,
): () => void {
  const { request } = job;
  const status = reply.fields.status as string;
  const error = reply.fields.error as JsonObject | undefined;
  const charge = status === "completed" && job.senderNodeId !== deps.selfNodeId;
  return () => {
    const now = deps.clock.now();
    if (charge) {
      deps.ledger.apply(
        request.public_key,
        -price,
        "provided",
        deps.initialCredit,
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
      deps.log.warn(
        `Cannot record task ${request.task_id}: ${(e as Error).message}`,
      );
    }
  };
}
