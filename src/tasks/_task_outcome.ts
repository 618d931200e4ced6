/** What a run's outcome becomes: the TASK_RESULT to answer, and its push to a slow task's requester. */
import type { Reply } from "../discovery/mod.ts";
import { sheetPrice } from "../discovery/mod.ts";
import type { Logger } from "../util/mod.ts";
import { isJsonObject } from "../wire/mod.ts";
import type { ExecutableSkill, RunOutcome, SendMessage } from "./types.ts";
import { failed } from "./_request_checks.ts";
import type { Queued } from "./_task_record.ts";

/** Attempts to push a slow task's result before giving up. */
const PUSH_ATTEMPTS = 3;

/**
 * The TASK_RESULT for a handler's outcome and the price it charges (only a completed task
 * with a JSON object output is charged). A handler's own failure is logged here; the caller
 * sees only the protocol's fixed "Handler execution failed".
 */
export function outcomeReply(
  outcome: RunOutcome,
  taskId: string,
  skill: ExecutableSkill,
  log: Logger,
): { reply: Reply<"TASK_RESULT">; price: number } {
  if (outcome.status === "ok" && isJsonObject(outcome.output)) {
    return {
      reply: {
        type: "TASK_RESULT",
        fields: {
          task_id: taskId,
          status: "completed",
          output_data: outcome.output,
          error: {},
        },
      },
      price: sheetPrice(skill.sheet),
    };
  }
  if (outcome.status === "timeout") {
    return {
      reply: failed(taskId, { code: "TIMEOUT", message: "Task timed out" }),
      price: 0,
    };
  }
  if (outcome.status === "invalid_input") {
    // The handler's own input check (a bridged tool's JSON Schema): the caller's mistake.
    return {
      reply: failed(taskId, {
        code: "INVALID_INPUT",
        message: outcome.message,
      }),
      price: 0,
    };
  }
  log.warn(
    `Skill "${skill.name}" failed for task ${taskId}: ${
      outcome.status === "error"
        ? outcome.detail.split("\n")[0]
        : "output is not a JSON object"
    }`,
  );
  return {
    reply: failed(taskId, {
      code: "HANDLER_ERROR",
      message: "Handler execution failed",
    }),
    price: 0,
  };
}

/**
 * Pushes a slow task's result to its requester's address, retrying with backoff while
 * `closed()` is false; failures are logged, never thrown.
 */
export async function pushResult(
  send: SendMessage,
  job: Queued,
  reply: Reply<"TASK_RESULT">,
  options: { closed: () => boolean; log: Logger },
): Promise<void> {
  const to = {
    host: job.request.requester_host,
    port: job.request.requester_port,
  };
  for (
    let attempt = 0;
    attempt < PUSH_ATTEMPTS && !options.closed();
    attempt++
  ) {
    try {
      await send(to, "TASK_RESULT", reply.fields, { timeoutMs: 10_000 });
      return;
    } catch (error) {
      options.log.warn(
        `Cannot push result of task ${job.request.task_id} to ${to.host}:${to.port}: ${
          (error as Error).message
        }`,
      );
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }
}
