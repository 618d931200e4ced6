/**
 * The entry module of every skill Worker, in two roles:
 *
 * - **guard**: the web `Worker` the host creates with the skill's Deno permissions.
 *   It only starts the runner and reports the runner's exit.
 * - **runner**: a `node:worker_threads` Worker the guard starts from this same file.
 *   It inherits the guard's permissions and gets a V8 heap limit (`resourceLimits`,
 *   which web Workers lack), imports the handler module and runs calls over the
 *   `MessagePort` the host handed over.
 *
 * Self-contained on purpose (type imports only): the runner needs read permission on
 * every module of its own graph, and `deno compile --include` embeds this one file.
 *
 * @module
 */
import { Worker as NodeWorker, workerData } from "node:worker_threads";
import type {
  GuardEvent,
  GuardStart,
  HostMessage,
  RunnerData,
  RunnerMessage,
  RunnerRequest,
} from "./_protocol.ts";

// Captured before any skill code runs, so a handler that replaces globals cannot
// change how its output is checked (the host checks again anyway).
const jsonStringify = JSON.stringify;
const jsonParse = JSON.parse;
const getPrototypeOf = Object.getPrototypeOf;
const objectKeys = Object.keys;
const isArray = Array.isArray;
const isFinite = Number.isFinite;
const OBJECT_PROTO = Object.prototype;
const DATE_PROTO = Date.prototype;

const MAX_DEPTH = 64;

type Post = (message: unknown, transfer?: Transferable[]) => void;

const data = workerData as Partial<RunnerData> | null | undefined;
if (data?.role === "knarr-skill-runner") {
  await runRunner(data as RunnerData);
} else {
  runGuard();
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    return error.stack ?? `${error.name}: ${error.message}`;
  }
  try {
    return String(error);
  } catch {
    return "non-printable error";
  }
}

// ---------------------------------------------------------------- guard

function runGuard(): void {
  const post = (globalThis as unknown as { postMessage: Post }).postMessage;
  const send = (event: GuardEvent) => post(event);
  let started = false;
  globalThis.addEventListener("message", (event) => {
    const start = (event as MessageEvent<GuardStart>).data;
    if (started || start?.type !== "start") return;
    started = true;
    let runner: NodeWorker;
    try {
      const runnerData: RunnerData = {
        role: "knarr-skill-runner",
        handlerUrl: start.handlerUrl,
        exportName: start.exportName,
        maxOutputBytes: start.maxOutputBytes,
        port: start.port,
      };
      runner = new NodeWorker(
        new URL(import.meta.url),
        {
          workerData: runnerData,
          transferList: [start.port as unknown as Transferable],
          resourceLimits: { maxOldGenerationSizeMb: start.memoryMb },
        } as ConstructorParameters<typeof NodeWorker>[1],
      );
    } catch (error) {
      send({ type: "start_error", message: describe(error) });
      return;
    }
    runner.on("error", (error: unknown) => {
      send({ type: "runner_error", message: describe(error) });
    });
    runner.on("exit", (code: number) => {
      send({ type: "runner_exit", code });
    });
  });
}

// ---------------------------------------------------------------- runner

async function runRunner(data: RunnerData): Promise<void> {
  const port = data.port;
  const send = (message: RunnerMessage) => port.postMessage(message);

  // An error thrown outside the handler's promise (a timer, an unawaited promise)
  // fails the call in progress instead of printing to the node's stderr.
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    send({ type: "crash", message: describe((event as ErrorEvent).error) });
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    send({ type: "crash", message: describe(event.reason) });
  });

  let handler: (input: unknown, ctx: unknown) => unknown;
  try {
    const module = await import(data.handlerUrl);
    const value = module[data.exportName];
    if (typeof value !== "function") {
      send({
        type: "load_error",
        message: value === undefined
          ? `export "${data.exportName}" not found`
          : `export "${data.exportName}" is a ${typeof value}, not a function`,
      });
      return;
    }
    handler = value;
  } catch (error) {
    send({ type: "load_error", message: describe(error) });
    return;
  }

  const runs = new Map<number, AbortController>();
  const requests = new Map<
    number,
    { resolve: (value: string | null) => void; reject: (e: Error) => void }
  >();
  let nextRid = 1;

  const request = (
    message: DistributiveOmit<RunnerRequest, "type" | "rid">,
    transfer: Transferable[] = [],
  ): Promise<string | null> =>
    new Promise((resolve, reject) => {
      const rid = nextRid++;
      requests.set(rid, { resolve, reject });
      port.postMessage({ type: "request", rid, ...message }, transfer);
    });

  const call = async (message: Extract<HostMessage, { type: "call" }>) => {
    const controller = new AbortController();
    runs.set(message.id, controller);
    let reply: RunnerMessage;
    try {
      const ctx = Object.freeze({
        callerNodeId: message.callerNodeId,
        jobId: message.jobId,
        signal: controller.signal,
        callLocal: async (skill: string, input: Record<string, unknown>) => {
          const json = checkOutput(input, Infinity, "callLocal input");
          const output = await request({
            op: "callLocal",
            skill: String(skill),
            input: json,
          });
          return jsonParse(output ?? "{}");
        },
        getAsset: (hash: string) =>
          request({ op: "getAsset", hash: String(hash) }),
        storeAsset: async (bytes: Uint8Array) => {
          if (!(bytes instanceof Uint8Array)) {
            throw new TypeError(
              "Cannot store asset: bytes must be a Uint8Array",
            );
          }
          return (await request({ op: "storeAsset", bytes })) as string;
        },
      });
      const output = await handler(jsonParse(message.input), ctx);
      reply = {
        type: "result",
        id: message.id,
        ok: true,
        json: checkOutput(output, data.maxOutputBytes, "output"),
      };
    } catch (error) {
      reply = {
        type: "result",
        id: message.id,
        ok: false,
        error: describe(error),
      };
    } finally {
      runs.delete(message.id);
    }
    send(reply);
  };

  port.onmessage = (event: MessageEvent<HostMessage>) => {
    const message = event.data;
    switch (message?.type) {
      case "call":
        void call(message);
        break;
      case "abort":
        runs.get(message.id)?.abort(
          new DOMException("The task timed out or was cancelled", "AbortError"),
        );
        send({ type: "aborted", id: message.id });
        break;
      case "reply": {
        const pending = requests.get(message.rid);
        requests.delete(message.rid);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
        break;
      }
    }
  };
  send({ type: "ready" });
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K>
  : never;

// ---------------------------------------------------------------- output checks

/** JSON text of a plain JSON object, or throws a TypeError/RangeError saying why not. */
function checkOutput(value: unknown, maxBytes: number, what: string): string {
  if (kindOf(value) !== "object") {
    throw new TypeError(
      `Handler ${what} is ${article(kindOf(value))}, not a JSON object`,
    );
  }
  const problem = checkJson(value, what, 0);
  if (problem !== null) {
    throw new TypeError(`Handler ${what} is not JSON-serializable: ${problem}`);
  }
  const json = jsonStringify(value) as string;
  const bytes = utf8Length(json);
  if (bytes > maxBytes) {
    throw new RangeError(
      `Handler ${what} of ${bytes} bytes exceeds maximum ${maxBytes}`,
    );
  }
  return json;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (isArray(value)) return "array";
  if (typeof value !== "object") return typeof value;
  const proto = getPrototypeOf(value);
  if (proto === OBJECT_PROTO || proto === null) return "object";
  if (proto === DATE_PROTO) return "date";
  return "instance of " + (proto?.constructor?.name ?? "a class");
}

function article(kind: string): string {
  if (kind === "null" || kind === "undefined") return kind;
  return (/^[aeiou]/.test(kind) ? "an " : "a ") + kind;
}

/** Null when `value` is plain JSON data (dates allowed, `undefined` properties dropped). */
function checkJson(value: unknown, path: string, depth: number): string | null {
  if (depth > MAX_DEPTH) return `${path} nests deeper than ${MAX_DEPTH} levels`;
  switch (typeof value) {
    case "string":
    case "boolean":
      return null;
    case "number":
      return isFinite(value) ? null : `${path} is ${value}`;
    case "object":
      break;
    default:
      return `${path} is ${article(typeof value)}`;
  }
  const kind = kindOf(value);
  if (kind === "null" || kind === "date") return null;
  if (kind === "array") {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      const problem = checkJson(items[i], `${path}[${i}]`, depth + 1);
      if (problem !== null) return problem;
    }
    return null;
  }
  if (kind !== "object") return `${path} is ${article(kind)}`;
  const record = value as Record<string, unknown>;
  for (const key of objectKeys(record)) {
    const item = record[key];
    if (item === undefined) continue;
    const problem = checkJson(item, `${path}.${key}`, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}

// Same as _json_check.ts, on purpose: this Worker may read only this file, so it imports no
// project module at run time (type-only imports are erased).
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && isLowSurrogate(s.charCodeAt(i + 1))) {
      // A surrogate pair is one 4-byte character; a lone surrogate encodes as U+FFFD (3).
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c < 0xe000;
}
