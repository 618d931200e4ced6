/** The persistent connection of a client: connect, register, and reconnect with backoff. */
import { connect } from "../net/mod.ts";
import type { Logger } from "../util/mod.ts";
import { ConnectionClosedError } from "./errors.ts";
import { KEEP_FRAME_LIMITS } from "./frame.ts";
import type { Packet } from "./packet.ts";
import { abortable, deadline, sleep } from "./_abort.ts";
import { KeepSession } from "./_keep_session.ts";
import type { KeepRequest } from "./_keep_session.ts";

/** Collaborators of {@linkcode KeepLink}. */
export interface KeepLinkDeps {
  logger: Logger;
  /** The packet that registers the client's identity, freshly signed; null to skip. */
  registration(): Promise<KeepRequest | null>;
  /** A routed packet or an unclaimed relay reply. */
  onPacket(packet: Packet): void;
  /** The link went down for good after being up (closed, or dropped without `reconnect`). */
  onDown(): void;
}

/** Options for {@linkcode KeepLink}. */
export interface KeepLinkOptions {
  host: string;
  port: number;
  /** Time limit of connecting plus registering, in ms. */
  timeoutMs: number;
  reconnect: boolean;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
}

/** Keeps one registered session alive; requests wait for it across reconnects. */
export class KeepLink {
  #deps: KeepLinkDeps;
  #options: KeepLinkOptions;
  #session: KeepSession | null = null;
  #reconnecting: Promise<void> | null = null;
  #waiters: { resolve(): void; reject(error: Error): void }[] = [];
  #stop = new AbortController();
  #down = false;

  constructor(deps: KeepLinkDeps, options: KeepLinkOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  /** True while a registered session is up. */
  get up(): boolean {
    return this.#session !== null;
  }

  /** Opens the first session; on failure the link is done (make a new one to retry). */
  async connect(signal?: AbortSignal): Promise<void> {
    try {
      await this.#open(signal);
    } catch (error) {
      this.#goDown(error as Error, false);
      throw error;
    }
  }

  /** Sends on the current session, waiting for a reconnect when one is under way. */
  async request(
    request: KeepRequest,
    signal: AbortSignal,
  ): Promise<Packet | null> {
    while (this.#session === null) {
      if (this.#down) {
        const { host, port } = this.#options;
        throw new ConnectionClosedError(
          `Cannot send: not connected to "${host}:${port}"`,
        );
      }
      await abortable(
        new Promise<void>((resolve, reject) =>
          this.#waiters.push({ resolve, reject })
        ),
        signal,
      );
    }
    return await this.#session.request(request, signal);
  }

  /** Closes the session and stops reconnecting. Idempotent. */
  async close(): Promise<void> {
    this.#goDown(new ConnectionClosedError("The client is closed"));
    await this.#reconnecting;
    await this.#session?.close();
    this.#session = null;
  }

  async #open(signal?: AbortSignal): Promise<void> {
    const { host, port, timeoutMs } = this.#options;
    const parent = signal
      ? AbortSignal.any([signal, this.#stop.signal])
      : this.#stop.signal;
    using limit = deadline(
      timeoutMs,
      `Connecting to "${host}:${port}"`,
      parent,
    );
    const conn = await connect(host, port, {
      signal: limit.signal,
      ...KEEP_FRAME_LIMITS,
    });
    const session = new KeepSession({
      conn,
      logger: this.#deps.logger,
      onPacket: this.#deps.onPacket,
      onClose: (error) => this.#lost(session, error),
    });
    try {
      const registration = await this.#deps.registration();
      if (registration !== null) {
        await session.request(registration, limit.signal);
      }
      limit.signal.throwIfAborted();
      if (session.closed) {
        throw new ConnectionClosedError(
          `Connection to "${host}:${port}" closed while registering`,
        );
      }
    } catch (error) {
      await session.close("failed during registration");
      throw error;
    }
    this.#session = session;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  #lost(session: KeepSession, error: Error): void {
    if (this.#session !== session) return;
    this.#session = null;
    if (this.#down) return;
    if (!this.#options.reconnect) {
      this.#goDown(error);
      return;
    }
    this.#deps.logger.info(`${error.message}; reconnecting`);
    this.#reconnecting ??= this.#reconnect().finally(() =>
      this.#reconnecting = null
    );
  }

  async #reconnect(): Promise<void> {
    const { host, port, reconnectDelayMs, maxReconnectDelayMs } = this.#options;
    for (let attempt = 0; !this.#down; attempt++) {
      const delay = Math.min(
        maxReconnectDelayMs,
        reconnectDelayMs * 2 ** Math.min(attempt, 30),
      );
      // Jitter, so clients dropped together do not all come back together.
      await sleep(delay * (0.5 + Math.random() / 2), this.#stop.signal);
      if (this.#down) return;
      try {
        await this.#open();
        this.#deps.logger.info(`Reconnected to "${host}:${port}"`);
        return;
      } catch (error) {
        this.#deps.logger.debug(
          `Reconnect attempt ${attempt + 1} failed: ${
            (error as Error).message
          }`,
        );
      }
    }
  }

  #goDown(error: Error, notify = true): void {
    if (this.#down) return;
    this.#down = true;
    this.#stop.abort(error);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    if (notify) this.#deps.onDown();
  }
}
