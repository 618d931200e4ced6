/** The provider's checks of a TASK_REQUEST before capacity: skill, input, request, access, credit. */
import type { Reply } from "../discovery/mod.ts";
import {
  requiredInputs,
  sheetMaxInputSize,
  sheetPrice,
} from "../discovery/mod.ts";
import type { LedgerRepo } from "../store/mod.ts";
import { pythonWireJson } from "../wire/mod.ts";
import type { JsonValue, TaskRequest } from "../wire/mod.ts";
import type { ExecutableSkill, SkillExecutor, TaskPolicy } from "./types.ts";

const encoder = new TextEncoder();
const HOST_RE = /^[A-Za-z0-9.:_\-\[\]]{1,256}$/;

/** A failed TASK_RESULT with the protocol's error object. */
export function failed(
  taskId: string,
  error: Record<string, JsonValue>,
): Reply<"TASK_RESULT"> {
  return {
    type: "TASK_RESULT",
    fields: { task_id: taskId, status: "failed", output_data: {}, error },
  };
}

function pyFloat(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** What {@linkcode checkRequest} needs. */
export interface RequestCheckDeps {
  selfNodeId: string;
  executor: SkillExecutor;
  ledger: LedgerRepo;
  policy: TaskPolicy;
}

/**
 * Runs checks 2 to 6 of the protocol in order (unknown skill, input size and required
 * fields, requester address and timeout, visibility, credit); the first that fails
 * gives the reply.
 */
export function checkRequest(
  request: TaskRequest,
  senderNodeId: string,
  deps: RequestCheckDeps,
):
  | { skill: ExecutableSkill }
  | { refused: Reply<"TASK_RESULT">; skill: ExecutableSkill | null } {
  const taskId = request.task_id;
  // 2. skill
  const name = request.skill_name.trim().toLowerCase();
  const skill = deps.executor.get(name);
  if (!skill) {
    return {
      refused: failed(taskId, {
        code: "UNKNOWN_SKILL",
        message: `No handler for skill '${name}'`,
      }),
      skill: null,
    };
  }
  const refuse = (error: Record<string, JsonValue>) => ({
    refused: failed(taskId, error),
    skill,
  });
  // 2b. switched off by the operator (the cockpit): a code of its own, so callers
  // can tell it from a skill this node never had and try another provider.
  if (skill.disabled) {
    return refuse({
      code: "SKILL_DISABLED",
      message: `Skill '${name}' is disabled on this node`,
    });
  }
  // 3. input
  const size = encoder.encode(pythonWireJson(request.input_data)).length;
  const max = sheetMaxInputSize(skill.sheet);
  if (size > max) {
    return refuse({
      code: "INPUT_TOO_LARGE",
      message: `Input is ${size} bytes, larger than ${max}`,
    });
  }
  const missing = requiredInputs(skill.sheet).filter((k) =>
    !(k in request.input_data)
  );
  if (missing.length > 0) {
    return refuse({
      code: "INVALID_INPUT",
      message: `Missing required fields: ${missing.join(", ")}`,
      detail: { missing_fields: missing },
    });
  }
  // 4. request
  const port = request.requester_port;
  if (
    !HOST_RE.test(request.requester_host) || !Number.isInteger(port) ||
    port < 1 || port > 65535
  ) {
    return refuse({
      code: "INVALID_REQUEST",
      message: "Invalid requester address",
    });
  }
  if (!Number.isInteger(request.timeout_ms) || request.timeout_ms < 1) {
    return refuse({
      code: "INVALID_REQUEST",
      message: "timeout_ms must be a positive integer",
    });
  }
  // 5. visibility (a node calling itself bypasses it)
  const self = senderNodeId === deps.selfNodeId;
  if (!self && skill.visibility === "private") {
    return refuse({
      code: "ACCESS_DENIED",
      message: `Skill '${name}' is private`,
    });
  }
  if (
    !self && skill.visibility === "whitelist" &&
    !skill.allowedNodes.includes(senderNodeId)
  ) {
    return refuse({
      code: "ACCESS_DENIED",
      message: `Skill '${name}' is not available to this node`,
    });
  }
  // 6. credit
  const price = sheetPrice(skill.sheet);
  if (!self && price > 0) {
    const row = deps.ledger.get(request.public_key);
    const balance = row?.balance ?? deps.policy.initialCredit;
    const floor = deps.policy.titForTat && (row?.tasksConsumed ?? 0) === 0
      ? Math.max(deps.policy.minBalance, 0)
      : deps.policy.minBalance;
    if (balance < floor) {
      return refuse({
        code: "INSUFFICIENT_CREDIT",
        message: `Balance ${pyFloat(balance)} below minimum ${pyFloat(floor)}`,
      });
    }
  }
  return { skill };
}
