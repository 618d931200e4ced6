/** The store write that records how a task we asked for ended (the consumer's side). */
import { isStorageFault } from "../store/mod.ts";
import type { LedgerRepo, TaskRepo } from "../store/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { JsonObject } from "../wire/mod.ts";

/** One answered attempt. */
export interface ConsumerRecord {
  taskId: string;
  skill: string;
  providerNodeId: string;
  /** The provider's public key: its ledger account. */
  publicKey: string;
  completed: boolean;
  /** Credits the provider earned (0 when the task failed). */
  price: number;
  error: JsonObject;
  /** Clock seconds when the attempt started and when its answer came. */
  started: number;
  now: number;
}

/** What {@linkcode consumerWrite} needs. */
export interface ConsumerWriteDeps {
  ledger: LedgerRepo;
  tasks: TaskRepo;
  initialCredit: number;
  log: Logger;
}

/**
 * The write of an answer: the provider's credit for a completed task and the history row,
 * for one commit. A task id already recorded as completed (asked again after an answer
 * that got lost) is left as it is: credited once. A ledger write that fails throws; a
 * history row that fails is only logged, unless the disk is failing.
 */
export function consumerWrite(
  record: ConsumerRecord,
  deps: ConsumerWriteDeps,
): () => void {
  const r = record;
  return () => {
    if (deps.tasks.consumerStatus(r.taskId) === "completed") return;
    if (r.completed) {
      deps.ledger.apply(
        r.publicKey,
        r.price,
        "consumed",
        deps.initialCredit,
        r.now,
      );
    }
    try {
      deps.tasks.put({
        taskId: r.taskId,
        role: "consumer",
        skillName: r.skill,
        peerNodeId: r.providerNodeId,
        peerPublicKey: r.publicKey,
        status: r.completed ? "completed" : "failed",
        errorCode: typeof r.error.code === "string" ? r.error.code : null,
        price: r.price,
        createdAt: r.started,
        finishedAt: r.now,
        wallMs: (r.now - r.started) * 1000,
      });
    } catch (e) {
      // The disk failing fails the whole write: the credit must not commit alone.
      if (isStorageFault(e)) throw e;
      deps.log.warn(`Cannot record task ${r.taskId}: ${(e as Error).message}`);
    }
  };
}
