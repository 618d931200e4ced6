/** A keep relay client: one-shot sends, a persistent registered connection, discovery. */
import { Identity } from "../crypto/mod.ts";
import type { Logger } from "../util/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import type { EndpointCache } from "./endpoint_cache.ts";
import { encodeFrame } from "./frame.ts";
import { encodePacket } from "./packet.ts";
import type { Packet, PacketInit } from "./packet.ts";
import { loadOrCreateIdentity } from "./key_file.ts";
import { signPacket } from "./signature.ts";
import { abortable, deadline } from "./_abort.ts";
import { Inbox } from "./_inbox.ts";
import { KeepLink } from "./_keep_link.ts";
import type { KeepRequest } from "./_keep_session.ts";
import { oneShot } from "./_one_shot.ts";

/** Options for {@linkcode KeepClient}. */
export interface KeepClientOptions {
  /** Relay host. Default "localhost". */
  host?: string;
  /** Relay port. Default 9009. */
  port?: number;
  /** This agent's identity, `type:name`. Default "bot:keep-client". */
  src?: string;
  /** Time limit of one request (connect, send, reply) in ms. Default 10,000. */
  timeoutMs?: number;
  /** Reconnect (and register again) when a persistent connection drops. Default true. */
  reconnect?: boolean;
  /** First reconnect delay in ms; doubles per failed attempt, with jitter. Default 100. */
  reconnectDelayMs?: number;
  /** Longest reconnect delay in ms. Default 10,000. */
  maxReconnectDelayMs?: number;
  /** Received packets kept for `listen()` before the oldest is dropped. Default 10,000. */
  maxInbox?: number;
  /** Where `discover("info")` records the relay. Default: not recorded. */
  endpointCache?: EndpointCache;
}

/** Collaborators of {@linkcode KeepClient}. */
export interface KeepClientDeps {
  /** The key pair that signs every packet. */
  identity: Identity;
  /** Default: silent. */
  logger?: Logger;
}

/** Options for {@linkcode KeepClient.create}. */
export interface KeepClientCreateOptions extends KeepClientOptions {
  /** Use this key pair. */
  identity?: Identity;
  /** Else load the seed from this file, or generate one and store it there. Default: ephemeral key. */
  keyFile?: string;
  /** Where the client logs. Default: silent. */
  logger?: Logger;
}

/** Options for {@linkcode KeepClient.send}. */
export interface SendOptions {
  /** Cancels the request; `send()` rejects with the reason. */
  signal?: AbortSignal;
  /** Wait for the relay's reply. Default: true for `server`, empty and `discover:` destinations. */
  waitReply?: boolean;
  /** Overrides the client's `timeoutMs`. */
  timeoutMs?: number;
}

/** Options of operations that only take a signal. */
export interface SignalOptions {
  /** Stops waiting: `listen()` returns, other calls reject with the reason. */
  signal?: AbortSignal;
}

const DEFAULT_TTL_S = 60;

/**
 * Client of a keep relay. Without `connect()` every `send` is one-shot (connect, send, wait for
 * the reply, close); after `connect()` sends share one registered connection and `listen()`
 * yields the packets routed to this agent.
 *
 * @example
 * ```ts
 * await using alice = await KeepClient.create({ host: "127.0.0.1", port: 9009, src: "bot:alice" });
 * await alice.connect();
 * await using bob = await KeepClient.create({ host: "127.0.0.1", port: 9009, src: "bot:bob" });
 * await bob.send({ dst: "bot:alice", body: "trade?" });
 * for await (const packet of alice.listen()) {
 *   console.log(packet.src, packet.body); // bot:bob trade?
 *   break;
 * }
 * ```
 */
export class KeepClient {
  /** Relay host. */
  readonly host: string;
  /** Relay port. */
  readonly port: number;
  /** This agent's identity. */
  readonly src: string;
  #identity: Identity;
  #logger: Logger;
  #options: Required<
    Omit<KeepClientOptions, "host" | "port" | "src" | "endpointCache">
  >;
  #cache: EndpointCache | null;
  /** The persistent connection and its inbox; null in one-shot mode. */
  #link:
    | { link: KeepLink; inbox: Inbox<Packet>; connecting: Promise<void> }
    | null = null;
  #closed: Promise<void> | null = null;

  /** Builds a client; the key pair comes from `identity`, `keyFile`, or is generated. */
  static async create(
    options: KeepClientCreateOptions = {},
  ): Promise<KeepClient> {
    const identity = await resolveIdentity(options);
    return new KeepClient(
      options.logger ? { identity, logger: options.logger } : { identity },
      options,
    );
  }

  /**
   * Tries each endpoint of `cache` in order with `discover("info")` and returns a client for the
   * first that answers (recording it in the cache).
   */
  static async fromCache(
    cache: EndpointCache,
    options: KeepClientCreateOptions = {},
  ): Promise<KeepClient> {
    const endpoints = await cache.read();
    if (endpoints.length === 0) {
      throw new Error(
        `Cannot connect from cache "${cache.path}": no cached endpoints`,
      );
    }
    // One key for every attempt.
    const identity = await resolveIdentity(options);
    let lastError: unknown;
    for (const { host, port } of endpoints) {
      const client = await KeepClient.create({
        ...options,
        identity,
        host,
        port,
        endpointCache: cache,
      });
      try {
        await client.discover("info");
        return client;
      } catch (error) {
        lastError = error;
        await client.close();
      }
    }
    throw new Error(
      `Cannot connect to any cached endpoint in "${cache.path}": ${
        (lastError as Error).message
      }`,
      { cause: lastError },
    );
  }

  /** Takes the signing identity and logger, and the relay address and client options. */
  constructor(deps: KeepClientDeps, options: KeepClientOptions = {}) {
    this.host = options.host ?? "localhost";
    this.port = options.port ?? 9009;
    this.src = options.src ?? "bot:keep-client";
    this.#identity = deps.identity;
    this.#logger = deps.logger ?? SILENT_LOGGER;
    this.#cache = options.endpointCache ?? null;
    this.#options = {
      timeoutMs: options.timeoutMs ?? 10_000,
      reconnect: options.reconnect ?? true,
      reconnectDelayMs: options.reconnectDelayMs ?? 100,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 10_000,
      maxInbox: options.maxInbox ?? 10_000,
    };
  }

  /** The public key (hex) that signs this client's packets. */
  get publicKey(): string {
    return this.#identity.publicKey;
  }

  /** True while a persistent connection is up. */
  get connected(): boolean {
    return this.#link?.link.up ?? false;
  }

  /**
   * Signs and sends a packet (defaults: `src` of the client, `dst` "server", `ttl` 60, a uuid4
   * `id`). Resolves with the relay's reply, or null when not waiting for one.
   */
  async send(
    init: PacketInit,
    options: SendOptions = {},
  ): Promise<Packet | null> {
    const request = await this.#request(init, options.waitReply);
    using limit = deadline(
      options.timeoutMs ?? this.#options.timeoutMs,
      `Request "${request.id}"`,
      options.signal,
    );
    if (this.#link === null) return await oneShot(this, request, limit.signal);
    return await this.#link.link.request(request, limit.signal);
  }

  /** Sends `discover:<query>` and parses the JSON reply; throws when the relay answers an error. */
  async discover(
    query: string,
    options: SignalOptions = {},
  ): Promise<Record<string, unknown>> {
    const reply =
      (await this.send({ dst: `discover:${query}`, body: "" }, options))!;
    let value: unknown;
    try {
      value = JSON.parse(reply.body);
    } catch {
      throw new Error(
        `Cannot discover "${query}": the relay answered "${
          reply.body.slice(0, 80)
        }"`,
      );
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error(
        `Cannot discover "${query}": the reply is not a JSON object`,
      );
    }
    const result = value as Record<string, unknown>;
    if (query === "info" && this.#cache !== null) {
      await this.#cache.record(this.host, this.port, result);
    }
    return result;
  }

  /** The identities registered at the relay. */
  async discoverAgents(options: SignalOptions = {}): Promise<string[]> {
    const agents = (await this.discover("agents", options)).agents;
    return Array.isArray(agents)
      ? agents.filter((a): a is string => typeof a === "string")
      : [];
  }

  /**
   * Opens the persistent connection and registers `src` (a signed packet to `server`, answered
   * `done`). Later drops reconnect with backoff unless `reconnect` is false.
   */
  async connect(options: SignalOptions = {}): Promise<void> {
    if (this.#closed) throw new Error("Cannot connect: the client is closed");
    if (this.#link === null) {
      const inbox = new Inbox<Packet>(this.#options.maxInbox);
      const link = new KeepLink({
        logger: this.#logger,
        registration: () =>
          this.src === ""
            ? Promise.resolve(null)
            : this.#request({ body: "register" }, true),
        onPacket: (packet) => {
          if (!inbox.push(packet)) {
            this.#logger.warn("Inbox full: dropped the oldest unread packet");
          }
        },
        onDown: () => {
          inbox.close();
          if (this.#link?.link === link) this.#link = null;
        },
      }, { host: this.host, port: this.port, ...this.#options });
      const entry = { link, inbox, connecting: link.connect() };
      this.#link = entry;
      entry.connecting.catch(() => {
        // The first connection failed: back to one-shot mode; connect() may be tried again.
        if (this.#link === entry) this.#link = null;
      });
    }
    await abortable(this.#link.connecting, options.signal);
  }

  /**
   * Packets routed to this agent, and relay replies nobody waited for (such as `error:offline`
   * after a routed send); heartbeats are filtered out. Ends when the client closes, when the
   * connection drops for good, or when `signal` aborts.
   */
  async *listen(
    options: SignalOptions = {},
  ): AsyncGenerator<Packet, void, undefined> {
    const inbox = this.#link?.inbox;
    if (inbox === undefined) {
      throw new Error("Cannot listen: not connected; call connect() first");
    }
    for (;;) {
      const packet = await inbox.next(options.signal);
      if (packet === null) return;
      yield packet;
    }
  }

  /** Closes the connection, stops reconnecting, ends `listen()`. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const entry = this.#link;
      this.#link = null;
      // Closing the link first also cuts short a connect() still in progress.
      await entry?.link.close();
      await entry?.connecting.catch(() => {});
      entry?.inbox.close();
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Signs `init` with the client's defaults into a framed request. */
  async #request(
    init: PacketInit,
    waitReply: boolean | undefined,
  ): Promise<KeepRequest> {
    const packet = await signPacket({
      id: crypto.randomUUID(),
      src: this.src,
      dst: "server",
      ttl: DEFAULT_TTL_S,
      ...init,
    }, this.#identity);
    const dst = packet.dst;
    return {
      frame: encodeFrame(encodePacket(packet)),
      id: packet.id,
      waitReply: waitReply ??
        (dst === "server" || dst === "" || dst.startsWith("discover:")),
    };
  }
}

function resolveIdentity(options: KeepClientCreateOptions): Promise<Identity> {
  if (options.identity) return Promise.resolve(options.identity);
  return options.keyFile !== undefined
    ? loadOrCreateIdentity(options.keyFile)
    : Identity.generate();
}
