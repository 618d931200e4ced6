/**
 * Messages between the sandbox host, the guard Worker and the runner (worker_host.ts).
 *
 * Host → guard goes through `Worker.postMessage`; host ↔ runner through a
 * `MessageChannel` whose second port the guard hands to the runner, so calls take
 * one hop. Everything a runner sends is untrusted: `parseRunnerMessage` checks it.
 */

/** The `workerData.role` that tells worker_host.ts it is a runner. */
export const RUNNER_ROLE = "knarr-skill-runner";

/** Host → guard: start the runner. */
export interface GuardStart {
  type: "start";
  handlerUrl: string;
  exportName: string;
  maxOutputBytes: number;
  memoryMb: number;
  port: MessagePort;
}

/** Guard → host. */
export type GuardEvent =
  | { type: "start_error"; message: string }
  | { type: "runner_error"; message: string }
  | { type: "runner_exit"; code: number };

/** Guard → runner, as `workerData`. */
export interface RunnerData {
  role: typeof RUNNER_ROLE;
  handlerUrl: string;
  exportName: string;
  maxOutputBytes: number;
  port: MessagePort;
}

/** Host → runner. */
export type HostMessage =
  | {
    type: "call";
    id: number;
    /** The input as JSON text. */
    input: string;
    callerNodeId: string;
    jobId: string;
  }
  | { type: "abort"; id: number }
  | { type: "reply"; rid: number; ok: true; value: string | null }
  | { type: "reply"; rid: number; ok: false; error: string };

/** A context request of a running handler. */
export type RunnerRequest =
  | {
    type: "request";
    rid: number;
    op: "callLocal";
    skill: string;
    input: string;
  }
  | { type: "request"; rid: number; op: "getAsset"; hash: string }
  | { type: "request"; rid: number; op: "storeAsset"; bytes: Uint8Array };

/** Runner → host. */
export type RunnerMessage =
  | { type: "ready" }
  | { type: "load_error"; message: string }
  | { type: "result"; id: number; ok: true; json: string }
  | { type: "result"; id: number; ok: false; error: string }
  | { type: "aborted"; id: number }
  | { type: "crash"; message: string }
  | RunnerRequest;

/** Longest error text kept from a runner (it goes to the provider's log). */
export const MAX_DETAIL_CHARS = 4_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value.slice(0, MAX_DETAIL_CHARS) : null;
}

/** Checks a message from a runner; null when it is not one of {@linkcode RunnerMessage}. */
export function parseRunnerMessage(data: unknown): RunnerMessage | null {
  if (!isRecord(data)) return null;
  switch (data.type) {
    case "ready":
      return { type: "ready" };
    case "load_error":
    case "crash": {
      const message = text(data.message);
      return message === null ? null : { type: data.type, message };
    }
    case "aborted":
      return isId(data.id) ? { type: "aborted", id: data.id } : null;
    case "result": {
      if (!isId(data.id)) return null;
      if (data.ok === true) {
        return typeof data.json === "string"
          ? { type: "result", id: data.id, ok: true, json: data.json }
          : null;
      }
      const error = text(data.error);
      return data.ok === false && error !== null
        ? { type: "result", id: data.id, ok: false, error }
        : null;
    }
    case "request":
      return parseRequest(data);
    default:
      return null;
  }
}

function parseRequest(data: Record<string, unknown>): RunnerRequest | null {
  const rid = data.rid;
  if (!isId(rid)) return null;
  switch (data.op) {
    case "callLocal":
      return typeof data.skill === "string" && typeof data.input === "string"
        ? {
          type: "request",
          rid,
          op: "callLocal",
          skill: data.skill,
          input: data.input,
        }
        : null;
    case "getAsset":
      return typeof data.hash === "string"
        ? { type: "request", rid, op: "getAsset", hash: data.hash }
        : null;
    case "storeAsset":
      return data.bytes instanceof Uint8Array
        ? { type: "request", rid, op: "storeAsset", bytes: data.bytes }
        : null;
    default:
      return null;
  }
}

/** Parses a guard event; null for anything else. */
export function parseGuardEvent(data: unknown): GuardEvent | null {
  if (!isRecord(data)) return null;
  switch (data.type) {
    case "start_error":
    case "runner_error": {
      const message = text(data.message);
      return message === null ? null : { type: data.type, message };
    }
    case "runner_exit":
      return typeof data.code === "number"
        ? { type: "runner_exit", code: data.code }
        : null;
    default:
      return null;
  }
}
