/** Being reached through a keep relay: a registered connection that feeds the node. */
import type { HostPort } from "../config/mod.ts";
import { formatHostPort } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import type { KeepClient, Packet } from "../relay/mod.ts";
import { type Logger, SILENT_LOGGER, sleep } from "../util/mod.ts";
import {
  MAX_RELAYED_BODY_BYTES,
  relayedAddress,
  relayIdentity,
} from "./relay_address.ts";
import type { BodyHandler } from "./transport.ts";

/** What {@linkcode RelayReach} needs of the node (a `KnarrNode` has it). */
export interface RelayReachNode {
  /** Signs the keep packets too: the relay can bind `knarr:<node_id>` to the node's key. */
  readonly identity: Identity;
  /** Answers one received knarr message body. */
  handleBody: BodyHandler;
  /** Makes the node announce the relayed address. */
  setAdvertiseHost(host: string, port?: number): void;
}

/** Options for {@linkcode RelayReach.start}. */
export interface RelayReachOptions {
  /** The relay's `host:port`. */
  relay: HostPort;
  /** First retry delay after the relay cannot be reached, in ms; doubles per failure. Default 1,000. */
  retryDelayMs?: number;
  /** Longest retry (and reconnect) delay in ms. Default 30,000. */
  maxRetryDelayMs?: number;
  /** Messages handled at once; more are dropped. Default 64. */
  maxInFlight?: number;
  /** Time limit of connecting and registering, in ms. Default 10,000. */
  timeoutMs?: number;
  /** Default: silent. */
  logger?: Logger;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * Keeps a node registered at a keep relay as `knarr:<node_id>` (reconnecting with backoff)
 * and makes it announce the relayed address `relay.<node_id>.<relay host>:<relay port>`.
 * Each routed packet's body is a knarr message, answered by the node; the answer goes back
 * to the packet's sender with the same id (an empty body when there is none).
 *
 * @example
 * ```ts
 * await using node = await KnarrNode.create({});
 * await node.start();
 * await using reach = RelayReach.start(node, { relay: { host: "203.0.113.7", port: 9009 } });
 * await node.join([{ host: "203.0.113.8", port: 9000 }]); // announces reach.address
 * ```
 */
export class RelayReach {
  /** The relayed address the node announces. */
  readonly address: HostPort;
  #node: RelayReachNode;
  #relay: HostPort;
  #identity: string;
  #options: Required<Omit<RelayReachOptions, "relay" | "logger">>;
  #log: Logger;
  #stop = new AbortController();
  #client: KeepClient | null = null;
  #inFlight = new Set<Promise<void>>();
  #running: Promise<void>;
  #connected = Promise.withResolvers<void>();
  #closed: Promise<void> | null = null;

  private constructor(node: RelayReachNode, options: RelayReachOptions) {
    this.#node = node;
    this.#relay = options.relay;
    this.#identity = relayIdentity(node.identity.nodeId);
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#options = {
      retryDelayMs: options.retryDelayMs ?? 1_000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      maxInFlight: options.maxInFlight ?? 64,
      timeoutMs: options.timeoutMs ?? 10_000,
    };
    this.address = relayedAddress(node.identity.nodeId, options.relay);
    this.#connected.promise.catch(() => {});
    this.#running = this.#run().catch((error: Error) =>
      this.#log.error(`Relay reach stopped: ${error.message}`)
    );
  }

  /** Announces the relayed address from now on and connects in the background. */
  static start(node: RelayReachNode, options: RelayReachOptions): RelayReach {
    const reach = new RelayReach(node, options);
    node.setAdvertiseHost(reach.address.host, reach.address.port);
    return reach;
  }

  /** True while registered at the relay. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Resolves once first registered at the relay; rejects when closed before. */
  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    if (!signal) return this.#connected.promise;
    return Promise.race([
      this.#connected.promise,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
      }),
    ]);
  }

  /** Disconnects from the relay after the messages in flight are answered. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort(new Error("Relay reach closed"));
      this.#connected.reject(new Error("Relay reach closed"));
      await this.#running;
      await Promise.allSettled([...this.#inFlight]);
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run(): Promise<void> {
    // Loaded here: nodes without a relay never load protobufjs.
    const { KeepClient } = await import("../relay/mod.ts");
    const signal = this.#stop.signal;
    const where = `"${formatHostPort(this.#relay)}"`;
    const { retryDelayMs, maxRetryDelayMs, timeoutMs } = this.#options;
    let delay = retryDelayMs;
    let warned = false;
    while (!signal.aborted) {
      const client = await KeepClient.create({
        identity: this.#node.identity,
        host: this.#relay.host,
        port: this.#relay.port,
        src: this.#identity,
        timeoutMs,
        // Reconnecting is this loop's: one warning per outage, whatever broke.
        reconnect: false,
        logger: this.#log,
      });
      this.#client = client;
      try {
        await client.connect({ signal });
        this.#log.info(
          `Reachable through relay ${where} as ${formatHostPort(this.address)}`,
        );
        this.#connected.resolve();
        warned = false;
        delay = retryDelayMs;
        for await (const packet of client.listen({ signal })) {
          this.#dispatch(client, packet);
        }
        if (!signal.aborted) {
          this.#log.warn(`Lost the connection to relay ${where}; reconnecting`);
          warned = true;
        }
      } catch (error) {
        if (signal.aborted) break;
        const text = `Cannot reach relay ${where}: ${
          (error as Error).message
        }; retrying`;
        // One warning per outage; the retries after it log at debug level.
        if (warned) this.#log.debug(text);
        else this.#log.warn(text);
        warned = true;
      } finally {
        await Promise.allSettled([...this.#inFlight]);
        await client.close();
        this.#client = null;
      }
      await sleep(delay * (0.5 + Math.random() / 2), signal);
      delay = Math.min(maxRetryDelayMs, delay * 2);
    }
  }

  #dispatch(client: KeepClient, packet: Packet): void {
    if (packet.src === "server") {
      // A relay reply nobody waits for, e.g. error:offline when a consumer left.
      if (packet.body !== "") this.#log.debug(`Relay said "${packet.body}"`);
      return;
    }
    if (
      packet.typ !== 0 || packet.dst !== this.#identity || packet.src === ""
    ) {
      return;
    }
    if (this.#inFlight.size >= this.#options.maxInFlight) {
      this.#log.warn(
        `Dropped a relayed message from "${packet.src}": ${this.#inFlight.size} in flight`,
      );
      return;
    }
    const serving = this.#serve(client, packet).finally(() =>
      this.#inFlight.delete(serving)
    );
    this.#inFlight.add(serving);
  }

  async #serve(client: KeepClient, packet: Packet): Promise<void> {
    let reply: Uint8Array | null | "close";
    try {
      reply = await this.#node.handleBody(
        ENCODER.encode(packet.body),
        `relay:${packet.src}`,
      );
    } catch (error) {
      this.#log.warn(
        `Cannot handle a relayed message from "${packet.src}": ${
          (error as Error).message
        }`,
      );
      reply = null;
    }
    let body = "";
    if (reply instanceof Uint8Array) {
      if (reply.length > MAX_RELAYED_BODY_BYTES) {
        this.#log.warn(
          `Cannot answer "${packet.src}" through the relay: reply of ${reply.length} bytes exceeds ${MAX_RELAYED_BODY_BYTES}`,
        );
      } else {
        body = DECODER.decode(reply);
      }
    }
    try {
      await client.send({ typ: 1, id: packet.id, dst: packet.src, body }, {
        waitReply: false,
      });
    } catch (error) {
      this.#log.debug(
        `Cannot answer "${packet.src}" through the relay: ${
          (error as Error).message
        }`,
      );
    }
  }
}
