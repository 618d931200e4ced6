/** The keep relay: accepts TCP connections, verifies packets, routes them, enforces limits. */
import { Identity } from "../crypto/mod.ts";
import type { Logger } from "../util/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import { SYSTEM_CLOCK } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { FrameReader } from "./frame.ts";
import { createPacket, decodePacket } from "./packet.ts";
import { RelayMetrics } from "./relay_metrics.ts";
import { Router } from "./router.ts";
import { verifyPacket } from "./signature.ts";
import { TokenBucket } from "./token_bucket.ts";
import { RelayConnection } from "./_relay_connection.ts";
import type { CloseKind } from "./_relay_connection.ts";
import { sleep } from "./_abort.ts";
import { buildFrame, publicKeyField } from "./_reply_frame.ts";
import type { Signer } from "./_reply_frame.ts";
import { listenTcp } from "./_tcp.ts";
import type { ByteConn, ByteListener } from "./_tcp.ts";

/** Options for {@linkcode RelayServer.start}; the defaults are those of the `[relay]` config section. */
export interface RelayServerOptions {
  /** Interface to listen on. Default "0.0.0.0". */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `port`). Default 9009. */
  port?: number;
  /** Version reported by `discover:info`. Default "0.5.0". */
  version?: string;
  /** Milliseconds between heartbeats to registered connections. Default 60,000. */
  heartbeatIntervalMs?: number;
  /** Open connections allowed in total. Default 10,000. */
  maxConnections?: number;
  /** Open connections allowed per remote IP address. Default 1,000. */
  maxConnectionsPerIp?: number;
  /** Sustained packets per second per connection (`Infinity` turns metering off). Default 1,000. */
  rateLimit?: number;
  /** Packets a connection may send at once before being metered. Default 2,000. */
  rateBurst?: number;
  /** Frames queued for one receiver before it is disconnected as too slow. Default 1,024. */
  maxQueue?: number;
  /** Bytes queued for one receiver before it is disconnected as too slow. Default 8 MiB. */
  maxQueueBytes?: number;
  /** Milliseconds a connection may stay open without registering an identity. Default 30,000. */
  idleTimeoutMs?: number;
  /** Milliseconds one write may take before the connection is closed. Default 10,000. */
  writeTimeoutMs?: number;
  /** Pin each identity to the first public key that registers it. Default false. */
  bindIdentities?: boolean;
  /** Sign replies and heartbeats with the relay key (`sig`/`pk`). Default true. */
  signReplies?: boolean;
  /** Milliseconds between checks for idle connections and overdue writes. Default: derived. */
  sweepIntervalMs?: number;
}

/** Collaborators of {@linkcode RelayServer}. */
export interface RelayServerDeps {
  /** The relay's own key; generated when absent. */
  identity?: Identity;
  /** Default: silent. */
  logger?: Logger;
  /** Default: `performance.now()`. */
  clock?: Clock;
}

const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const ACCEPT_RETRY_MS = 100;
const REPLY_TYPE = 1;
const HEARTBEAT_TYPE = 2;

/**
 * A running keep relay.
 *
 * @example
 * ```ts
 * await using relay = await RelayServer.start({}, { host: "127.0.0.1", port: 0 });
 * console.log(`relay on ${relay.host}:${relay.port}, key ${relay.publicKey}`);
 * ```
 */
export class RelayServer {
  /** Bound interface. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Counters behind `discover:metrics`. */
  readonly metrics: RelayMetrics;
  #listener: ByteListener;
  #identity: Identity;
  #signer: Signer | null;
  #logger: Logger;
  #clock: Clock;
  #router: Router;
  #options: Required<
    Omit<
      RelayServerOptions,
      "host" | "port" | "version" | "bindIdentities" | "signReplies"
    >
  >;
  #heartbeat: Uint8Array;
  #connections = new Set<RelayConnection>();
  #perIp = new Map<string, number>();
  #readers = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;
  #timers: ReturnType<typeof setInterval>[];
  #stop = new AbortController();
  #disposed: Promise<void> | null = null;

  /** Listens and starts serving; throws an Error naming the address when it cannot listen. */
  static async start(
    deps: RelayServerDeps = {},
    options: RelayServerOptions = {},
  ): Promise<RelayServer> {
    const identity = deps.identity ?? await Identity.generate();
    const signer = options.signReplies ?? true
      ? { identity, pkField: publicKeyField(identity) }
      : null;
    // Ed25519 is deterministic and the heartbeat never changes: sign it once.
    const heartbeat = await buildFrame(
      signer,
      createPacket({ typ: HEARTBEAT_TYPE, src: "server" }),
    );
    const listener = listenTcp(options.host ?? "0.0.0.0", options.port ?? 9009);
    return new RelayServer(
      listener,
      identity,
      signer,
      heartbeat,
      deps,
      options,
    );
  }

  private constructor(
    listener: ByteListener,
    identity: Identity,
    signer: Signer | null,
    heartbeat: Uint8Array,
    deps: RelayServerDeps,
    options: RelayServerOptions,
  ) {
    this.#listener = listener;
    this.host = listener.host;
    this.port = listener.port;
    this.#identity = identity;
    this.#signer = signer;
    this.#heartbeat = heartbeat;
    this.#logger = deps.logger ?? SILENT_LOGGER;
    this.#clock = deps.clock ?? SYSTEM_CLOCK;
    this.metrics = new RelayMetrics();
    const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    const writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.#options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 60_000,
      maxConnections: options.maxConnections ?? 10_000,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? 1_000,
      rateLimit: options.rateLimit ?? 1_000,
      rateBurst: options.rateBurst ?? 2_000,
      maxQueue: options.maxQueue ?? 1_024,
      maxQueueBytes: options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      idleTimeoutMs,
      writeTimeoutMs,
      sweepIntervalMs: options.sweepIntervalMs ??
        Math.min(
          1_000,
          Math.max(10, Math.min(idleTimeoutMs, writeTimeoutMs) / 4),
        ),
    };
    const routerOptions = { bindIdentities: options.bindIdentities ?? false };
    this.#router = new Router(
      { clock: this.#clock, metrics: this.metrics },
      options.version === undefined
        ? routerOptions
        : { ...routerOptions, version: options.version },
    );
    this.#timers = [
      setInterval(
        () => this.#sendHeartbeats(),
        this.#options.heartbeatIntervalMs,
      ),
      setInterval(() => this.#sweep(), this.#options.sweepIntervalMs),
    ];
    this.#acceptLoop = this.#accept();
    this.#logger.info(`Relay listening on ${listener.host}:${listener.port}`);
  }

  /** The relay's public key (hex) that signs replies and heartbeats. */
  get publicKey(): string {
    return this.#identity.publicKey;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Number of registered identities. */
  get agentsOnline(): number {
    return this.#router.agentsOnline;
  }

  /** Stops listening, closes every connection and waits for all work to finish. Idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= this.#shutdown();
    return this.#disposed;
  }

  async #shutdown(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#stop.abort();
    this.#listener.close();
    await this.#acceptLoop;
    const connections = [...this.#connections];
    for (const connection of connections) {
      connection.close("relay shutting down");
    }
    await Promise.all([
      ...this.#readers,
      ...connections.map((c) => c.drained()),
    ]);
    this.#logger.info("Relay stopped");
  }

  async #accept(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let conn: ByteConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#stop.signal.aborted) return;
        // e.g. out of file descriptors: back off instead of spinning
        this.#logger.warn(
          `Cannot accept connection: ${(error as Error).message}`,
        );
        await sleep(ACCEPT_RETRY_MS, this.#stop.signal);
        continue;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: ByteConn): void {
    const ip = conn.remoteHost;
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (
      this.#connections.size >= this.#options.maxConnections ||
      fromIp >= this.#options.maxConnectionsPerIp
    ) {
      this.metrics.connectionsRejected++;
      this.#logger.debug(
        `Refusing connection from ${conn.remote}: connection limit reached`,
      );
      conn.close();
      return;
    }
    const { rateLimit, rateBurst } = this.#options;
    const connection = new RelayConnection({
      conn,
      clock: this.#clock,
      bucket: Number.isFinite(rateLimit)
        ? new TokenBucket({ clock: this.#clock }, {
          ratePerSecond: rateLimit,
          burst: rateBurst,
        })
        : null,
      onClose: (c, kind, reason) => this.#closed(c, kind, reason),
    }, this.#options);
    this.#connections.add(connection);
    this.#perIp.set(ip, fromIp + 1);
    this.metrics.connectionsAccepted++;
    this.metrics.connectionsOpen = this.#connections.size;
    const reader = this.#serve(connection);
    this.#readers.add(reader);
    reader.finally(() => this.#readers.delete(reader));
  }

  #closed(connection: RelayConnection, kind: CloseKind, reason: string): void {
    this.#connections.delete(connection);
    const ip = connection.conn.remoteHost;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    if (left > 0) this.#perIp.set(ip, left);
    else this.#perIp.delete(ip);
    this.#router.removePeer(connection);
    this.metrics.connectionsOpen = this.#connections.size;
    if (kind === "slow") this.metrics.closedSlow++;
    if (kind === "write_timeout") this.metrics.closedWriteTimeout++;
    this.#logger.debug(
      `Closed connection from ${connection.conn.remote}: ${reason}`,
    );
  }

  async #serve(connection: RelayConnection): Promise<void> {
    const reader = new FrameReader(connection.conn, {
      peer: `"${connection.conn.remote}"`,
    });
    let reason = "peer closed the connection";
    try {
      for (;;) {
        const frame = await reader.next();
        if (frame === null || connection.closed) break;
        this.metrics.framesIn++;
        this.metrics.bytesIn += frame.length;
        const waitMs = connection.bucket?.take() ?? 0;
        if (waitMs > 0) {
          this.metrics.throttled++;
          await sleep(waitMs, connection.signal);
          if (connection.closed) break;
        }
        await this.#handle(connection, frame);
        if (connection.closed) break;
      }
    } catch (error) {
      if (error instanceof RangeError || error instanceof SyntaxError) {
        this.metrics.closedMalformed++;
      }
      reason = (error as Error).message;
    } finally {
      // The original answered each packet before reading the next one, so replies already
      // queued still go out (the write deadline bounds this); the identities go offline now.
      this.#router.removePeer(connection);
      connection.draining = true;
      await connection.drained();
      connection.close(reason);
    }
  }

  async #handle(connection: RelayConnection, frame: Uint8Array): Promise<void> {
    // A bad packet is a SyntaxError here and closes the connection (the caller catches it).
    const packet = decodePacket(frame.subarray(4));
    const verdict = await verifyPacket(packet);
    if (verdict !== "valid") {
      if (verdict === "unsigned") this.metrics.droppedUnsigned++;
      else this.metrics.droppedBadSignature++;
      this.#logger.debug(
        `Dropped ${verdict} packet from ${connection.conn.remote} (src ${
          JSON.stringify(packet.src)
        })`,
      );
      return;
    }
    // Closed while verifying (e.g. taken over): its packet must not register anything.
    if (connection.closed) return;
    const result = this.#router.route(connection, packet, frame);
    if (result.type !== "reply") return;
    const reply = createPacket({
      typ: REPLY_TYPE,
      id: packet.id,
      src: "server",
      body: result.body,
    });
    if (connection.send(await buildFrame(this.#signer, reply))) {
      this.metrics.framesOut++;
    }
  }

  #sendHeartbeats(): void {
    for (const peer of [...this.#router.registeredPeers()]) {
      if (peer.send(this.#heartbeat)) {
        this.metrics.heartbeats++;
        this.metrics.framesOut++;
      }
    }
  }

  #sweep(): void {
    const now = this.#clock.now();
    const { idleTimeoutMs } = this.#options;
    for (const connection of [...this.#connections]) {
      if (connection.writeOverdue(now)) {
        connection.close(
          `a write took longer than ${this.#options.writeTimeoutMs} ms`,
          "write_timeout",
        );
      } else if (
        connection.identities.size === 0 && !connection.draining &&
        now - connection.acceptedAt > idleTimeoutMs
      ) {
        this.metrics.closedIdle++;
        connection.close(`no identity registered within ${idleTimeoutMs} ms`);
      }
    }
  }
}
