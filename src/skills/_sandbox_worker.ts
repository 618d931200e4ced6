/** One skill Worker seen from the host: start, call, abort, terminate. The only `new Worker`. */
import { SkillLoadError } from "./errors.ts";
import {
  type GuardStart,
  type HostMessage,
  MAX_DETAIL_CHARS,
  parseGuardEvent,
  parseRunnerMessage,
  type RunnerMessage,
  type RunnerRequest,
} from "./_protocol.ts";

/** Everything needed to start a Worker for a skill. */
export interface SandboxWorkerInit {
  /** Skill name (for errors and the Worker's name). */
  skill: string;
  /** URL of worker_host.ts. */
  hostUrl: URL;
  handlerUrl: string;
  exportName: string;
  permissions: Deno.PermissionOptionsObject;
  maxOutputBytes: number;
  memoryMb: number;
  /** How long the handler module may take to load. */
  loadTimeoutMs: number;
}

/** How a call ended, before the host parses the output. */
export type CallResult =
  | { type: "ok"; json: string }
  | { type: "error"; detail: string };

/** Caller and task of a call. */
export interface CallInfo {
  callerNodeId: string;
  jobId: string;
}

/** Answers a handler's context request; rejects to send the handler an error. */
export type RequestHandler = (request: RunnerRequest) => Promise<string | null>;

/** Context requests a handler may have open at once. */
const MAX_OPEN_REQUESTS = 64;

interface Current {
  id: number;
  resolve: (result: CallResult) => void;
  onRequest: RequestHandler;
  aborted?: (() => void) | undefined;
}

/** A guard Worker plus its runner, and the port to the runner. */
export class SandboxWorker {
  #worker: Worker;
  #port: MessagePort;
  #skill: string;
  #dead = false;
  #deathDetail = "";
  #current: Current | null = null;
  #nextId = 1;
  #openRequests = new Set<Promise<void>>();
  #onReady: ((message: RunnerMessage) => void) | null = null;
  #onDeath = new Set<() => void>();

  private constructor(init: SandboxWorkerInit) {
    this.#skill = init.skill;
    this.#worker = new Worker(init.hostUrl.href, {
      type: "module",
      name: `knarr-skill:${init.skill}`,
      deno: { permissions: init.permissions },
    });
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (event) => this.#onRunnerMessage(event.data);
    this.#port.onmessageerror = () => this.#kill("unreadable message");
    this.#worker.onmessage = (event) => this.#onGuardMessage(event.data);
    this.#worker.onmessageerror = () => this.#kill("unreadable guard message");
    this.#worker.onerror = (event) => {
      // Unhandled, a Worker error would be rethrown in the node itself.
      event.preventDefault();
      this.#kill(`guard failed: ${event.message}`);
    };
    const start: GuardStart = {
      type: "start",
      handlerUrl: init.handlerUrl,
      exportName: init.exportName,
      maxOutputBytes: init.maxOutputBytes,
      memoryMb: init.memoryMb,
      port: channel.port2,
    };
    this.#worker.postMessage(start, [channel.port2]);
  }

  /** Starts a Worker and waits for the handler module to load. */
  static start(
    init: SandboxWorkerInit,
    options: { signal?: AbortSignal } = {},
  ): Promise<SandboxWorker> {
    const worker = new SandboxWorker(init);
    const cause = (detail: string) =>
      new SkillLoadError(
        init.skill,
        `Cannot load skill "${init.skill}" from "${init.handlerUrl}": ${detail}`,
      );
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        worker.#onReady = null;
        worker.#onDeath.delete(onDeath);
      };
      const fail = (error: unknown) => {
        done();
        worker.terminate();
        reject(error);
      };
      const onAbort = () => fail(options.signal?.reason);
      const onDeath = () => fail(cause(worker.#deathDetail));
      const timer = setTimeout(
        () => fail(cause(`not loaded within ${init.loadTimeoutMs} ms`)),
        init.loadTimeoutMs,
      );
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      worker.#onDeath.add(onDeath);
      worker.#onReady = (message) => {
        if (message.type === "ready") {
          done();
          resolve(worker);
        } else if (message.type === "load_error" || message.type === "crash") {
          fail(cause(message.message));
        } else {
          fail(cause(`unexpected "${message.type}" message while loading`));
        }
      };
    });
  }

  /** True once the Worker is gone (terminated, crashed or misbehaved). */
  get dead(): boolean {
    return this.#dead;
  }

  /** Why the Worker died, for the provider's log. */
  get deathDetail(): string {
    return this.#deathDetail;
  }

  /** Runs the handler once; never rejects. One call at a time. */
  call(
    input: string,
    info: CallInfo,
    onRequest: RequestHandler,
  ): Promise<CallResult> {
    if (this.#dead) {
      return Promise.resolve({ type: "error", detail: this.#deathDetail });
    }
    if (this.#current !== null) throw new Error("SandboxWorker is busy");
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#current = { id, resolve, onRequest };
      this.#send({ type: "call", id, input, ...info });
    });
  }

  /**
   * Aborts the call in progress (its `ctx.signal`); resolves true when the runner
   * acknowledges within `graceMs`, false when it seems stuck in synchronous code.
   */
  abort(graceMs: number): Promise<boolean> {
    const current = this.#current;
    if (current === null || this.#dead) return Promise.resolve(!this.#dead);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), graceMs);
      const finish = (answered: boolean) => {
        clearTimeout(timer);
        this.#onDeath.delete(onDeath);
        current.aborted = undefined;
        resolve(answered);
      };
      const onDeath = () => finish(false);
      this.#onDeath.add(onDeath);
      current.aborted = () => finish(true);
      this.#send({ type: "abort", id: current.id });
    });
  }

  /** Settles when the context requests of past calls have settled. */
  async drained(): Promise<void> {
    while (this.#openRequests.size > 0) {
      await Promise.allSettled([...this.#openRequests]);
    }
  }

  /** Terminates guard and runner; idempotent. A call in progress ends with an error. */
  terminate(detail = "Worker terminated"): void {
    this.#kill(detail);
  }

  #send(message: HostMessage): void {
    if (!this.#dead) this.#port.postMessage(message);
  }

  #kill(detail: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#deathDetail = detail.slice(0, MAX_DETAIL_CHARS);
    this.#worker.terminate();
    this.#port.close();
    const current = this.#current;
    this.#current = null;
    current?.resolve({ type: "error", detail: this.#deathDetail });
    for (const callback of [...this.#onDeath]) callback();
  }

  #onGuardMessage(data: unknown): void {
    const event = parseGuardEvent(data);
    if (event === null) return this.#kill("guard sent an unknown message");
    switch (event.type) {
      case "start_error":
        return this.#kill(`runner did not start: ${event.message}`);
      case "runner_error":
        return this.#kill(`Worker crashed: ${event.message}`);
      case "runner_exit":
        return this.#kill(`Worker exited with code ${event.code}`);
    }
  }

  #onRunnerMessage(data: unknown): void {
    if (this.#dead) return;
    const message = parseRunnerMessage(data);
    if (message === null) {
      return this.#kill(`Worker of skill "${this.#skill}" broke the protocol`);
    }
    if (this.#onReady !== null) return this.#onReady(message);
    const current = this.#current;
    switch (message.type) {
      case "result":
        if (current?.id !== message.id) return this.#kill("unexpected result");
        this.#current = null;
        current.resolve(
          message.ok
            ? { type: "ok", json: message.json }
            : { type: "error", detail: message.error },
        );
        return;
      case "aborted":
        if (current?.id === message.id) current.aborted?.();
        return;
      case "crash":
        return this.#kill(`Handler crashed its Worker: ${message.message}`);
      case "request":
        if (current === null) return this.#kill("request outside a call");
        return this.#answer(message, current);
      default:
        return this.#kill(`unexpected "${message.type}" message`);
    }
  }

  #answer(request: RunnerRequest, current: Current): void {
    if (this.#openRequests.size >= MAX_OPEN_REQUESTS) {
      this.#send({
        type: "reply",
        rid: request.rid,
        ok: false,
        error:
          `Cannot ${request.op}: more than ${MAX_OPEN_REQUESTS} requests open`,
      });
      return;
    }
    const task = current.onRequest(request).then(
      (value) =>
        this.#send({ type: "reply", rid: request.rid, ok: true, value }),
      (error) =>
        this.#send({
          type: "reply",
          rid: request.rid,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        }),
    ).finally(() => this.#openRequests.delete(task));
    this.#openRequests.add(task);
  }
}
