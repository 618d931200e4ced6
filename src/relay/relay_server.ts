/** The keep relay: keep-protocol policy on the shared TCP server; verifies packets, routes them. */
import { Identity } from "../crypto/mod.ts";
import { formatAddress, TcpServer } from "../net/mod.ts";
import type { FrameConnection } from "../net/mod.ts";
import type { Logger } from "../util/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import { SYSTEM_CLOCK } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { KEEP_FRAME_LIMITS } from "./frame.ts";
import { createPacket } from "./packet.ts";
import { RelayMetrics } from "./relay_metrics.ts";
import { Router } from "./router.ts";
import { TokenBucket } from "./token_bucket.ts";
import { readPacket } from "./_incoming.ts";
import type { IncomingPacket } from "./_incoming.ts";
import { RelayConnection } from "./_relay_connection.ts";
import { sleep } from "./_abort.ts";
import { buildFrame, buildReplyFrame, publicKeyField } from "./_reply_frame.ts";
import type { Signer } from "./_reply_frame.ts";

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
  /** Frames waiting for one receiver behind its write in progress before it is disconnected as too slow. Default 1,024. */
  maxQueue?: number;
  /** Bytes waiting for one receiver behind its write in progress before it is disconnected as too slow. Default 8 MiB. */
  maxQueueBytes?: number;
  /** Milliseconds a connection may stay open without registering an identity. Default 30,000. */
  idleTimeoutMs?: number;
  /** Milliseconds one write may take before the connection is closed. Default 10,000. */
  writeTimeoutMs?: number;
  /** Pin each identity to the first public key that registers it. Default false. */
  bindIdentities?: boolean;
  /** Sign replies and heartbeats with the relay key (`sig`/`pk`). Default true. */
  signReplies?: boolean;
  /** Milliseconds between checks for unregistered connections and overdue writes. Default: a quarter of the shorter deadline, 10 to 1,000. */
  sweepIntervalMs?: number;
}

/** Collaborators of {@linkcode RelayServer}. */
export interface RelayServerDeps {
  /** The relay's own key; generated when absent. */
  identity?: Identity;
  /** Where the relay logs; default: silent. */
  logger?: Logger;
  /** The time source of deadlines, rates and uptime; default: `performance.now()`. */
  clock?: Clock;
}

const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_TYPE = 2;
// Frames already received are verified together, then routed in order (one write per receiver).
const MAX_BATCH_FRAMES = 256;

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
  readonly metrics: RelayMetrics = new RelayMetrics();
  #server: TcpServer;
  #identity: Identity;
  #signer: Signer | null;
  #logger: Logger;
  #clock: Clock;
  #router: Router;
  #rateLimit: number;
  #rateBurst: number;
  #heartbeat: Uint8Array;
  #peers = new Map<FrameConnection, RelayConnection>();
  #timer: ReturnType<typeof setInterval>;
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
    return new RelayServer(identity, signer, heartbeat, deps, options);
  }

  private constructor(
    identity: Identity,
    signer: Signer | null,
    heartbeat: Uint8Array,
    deps: RelayServerDeps,
    options: RelayServerOptions,
  ) {
    this.#identity = identity;
    this.#signer = signer;
    this.#heartbeat = heartbeat;
    this.#logger = deps.logger ?? SILENT_LOGGER;
    this.#clock = deps.clock ?? SYSTEM_CLOCK;
    this.#rateLimit = options.rateLimit ?? 1_000;
    this.#rateBurst = options.rateBurst ?? 2_000;
    const routerOptions = { bindIdentities: options.bindIdentities ?? false };
    this.#router = new Router(
      { clock: this.#clock, metrics: this.metrics },
      options.version === undefined
        ? routerOptions
        : { ...routerOptions, version: options.version },
    );
    this.#server = TcpServer.listen({
      hostname: options.host ?? "0.0.0.0",
      port: options.port ?? 9009,
      maxConnections: options.maxConnections ?? 10_000,
      maxConnectionsPerAddress: options.maxConnectionsPerIp ?? 1_000,
      ...KEEP_FRAME_LIMITS,
      // Registered agents may stay silent: the deadline is to register an identity.
      idleTimeoutMs: 0,
      handshakeTimeoutMs: options.idleTimeoutMs ?? 30_000,
      writeTimeoutMs: options.writeTimeoutMs ?? 10_000,
      maxQueueFrames: options.maxQueue ?? 1_024,
      maxQueueBytes: options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      // Forwarded frames are queued as received, without a copy.
      retainFrames: true,
      initialReadBufferBytes: 256,
      ...(options.sweepIntervalMs === undefined
        ? {}
        : { sweepIntervalMs: options.sweepIntervalMs }),
      inUseAdvice: "",
      clock: this.#clock,
      logger: this.#logger,
      onRefused: (remote) => {
        this.metrics.connectionsRejected++;
        this.#logger.debug(
          `Refusing connection from ${
            formatAddress(remote)
          }: connection limit reached`,
        );
      },
      onClose: (conn) => this.#closed(conn),
    }, (conn) => this.#serve(conn));
    this.host = this.#server.hostname;
    this.port = this.#server.port;
    this.#timer = setInterval(
      () => this.#sendHeartbeats(),
      options.heartbeatIntervalMs ?? 60_000,
    );
    this.#logger.info(`Relay listening on ${this.host}:${this.port}`);
  }

  /** The relay's public key (hex) that signs replies and heartbeats. */
  get publicKey(): string {
    return this.#identity.publicKey;
  }

  /** Number of open connections. */
  get connections(): number {
    return this.#server.connectionCount;
  }

  /** Number of registered identities. */
  get agentsOnline(): number {
    return this.#router.agentsOnline;
  }

  /** Stops listening, closes every connection and waits for all work to finish. Idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= (async () => {
      clearInterval(this.#timer);
      await this.#server.close();
      this.#logger.info("Relay stopped");
    })();
    return this.#disposed;
  }

  #closed(conn: FrameConnection): void {
    const connection = this.#peers.get(conn);
    if (connection === undefined) return;
    this.#peers.delete(conn);
    this.#router.removePeer(connection);
    connection.dispose();
    this.metrics.connectionsOpen = this.#peers.size;
    if (conn.closeKind === "slow") this.metrics.closedSlow++;
    if (conn.closeKind === "write_timeout") this.metrics.closedWriteTimeout++;
    if (conn.closeKind === "handshake_timeout") this.metrics.closedIdle++;
    this.#logger.debug(
      `Closed connection from ${connection.remote}: ${
        conn.closeReason ?? "closed"
      }`,
    );
  }

  async #serve(conn: FrameConnection): Promise<void> {
    const bucket = Number.isFinite(this.#rateLimit)
      ? new TokenBucket({ clock: this.#clock }, {
        ratePerSecond: this.#rateLimit,
        burst: this.#rateBurst,
      })
      : null;
    const connection = new RelayConnection(
      conn,
      bucket,
      formatAddress(conn.remote),
    );
    this.#peers.set(conn, connection);
    this.metrics.connectionsAccepted++;
    this.metrics.connectionsOpen = this.#peers.size;
    let reason = "peer closed the connection";
    try {
      // Inline, not a helper: each suspended async frame costs an idle connection memory.
      for (;;) {
        const first = conn.bufferedFrame() ?? await conn.readFrame();
        if (first === null || conn.closed) break;
        const batch = [first];
        while (batch.length < MAX_BATCH_FRAMES) {
          const next = conn.bufferedFrame();
          if (next === undefined) break;
          batch.push(next);
        }
        await this.#meter(connection, batch);
        if (conn.closed) break;
      }
      if (conn.readEnd === "malformed") this.metrics.closedMalformed++;
      if (conn.readEnd !== "eof") reason = conn.closeReason ?? reason;
    } catch (error) {
      // An undecodable packet (SyntaxError) or a reply too large to frame (RangeError).
      if (error instanceof RangeError || error instanceof SyntaxError) {
        this.metrics.closedMalformed++;
      }
      reason = (error as Error).message;
    } finally {
      // The original answered each packet before reading the next one, so replies already
      // queued still go out (the write deadline bounds this); the identities go offline now.
      this.#router.removePeer(connection);
      await conn.drained();
      conn.close(reason);
    }
  }

  /** Counts the frames and meters them with the connection's bucket, pausing where it says. */
  async #meter(
    connection: RelayConnection,
    frames: Uint8Array[],
  ): Promise<void> {
    const metrics = this.metrics;
    const bucket = connection.bucket;
    let from = 0;
    for (let i = 0; i < frames.length; i++) {
      metrics.framesIn++;
      metrics.bytesIn += frames[i]!.length;
      const waitMs = bucket?.take() ?? 0;
      if (waitMs <= 0) continue;
      if (i > from) await this.#handle(connection, frames, from, i);
      metrics.throttled++;
      await sleep(waitMs, connection.signal);
      if (connection.closed) return;
      from = i;
    }
    await this.#handle(connection, frames, from, frames.length);
  }

  /** Parses and verifies `frames[from..to)` together, then routes them in order. */
  async #handle(
    connection: RelayConnection,
    frames: Uint8Array[],
    from: number,
    to: number,
  ): Promise<void> {
    if (connection.closed) return;
    const packets: IncomingPacket[] = [];
    let undecodable: Error | null = null;
    for (let i = from; i < to; i++) {
      try {
        packets.push(readPacket(frames[i]!));
      } catch (error) {
        // The packets before it are still answered, then the connection closes.
        undecodable = error as Error;
        break;
      }
    }
    const verdicts = packets.length === 1
      ? [await packets[0]!.valid]
      : await Promise.all(packets.map((p) => p.valid));
    for (let k = 0; k < packets.length; k++) {
      // Closed meanwhile (e.g. taken over): its packets must not register anything.
      if (connection.closed) return;
      const packet = packets[k]!;
      if (!verdicts[k]) {
        this.#dropped(connection, packet);
        continue;
      }
      const result = this.#router.route(connection, packet, frames[from + k]!);
      if (connection.identities.size > 0) connection.conn.completeHandshake();
      if (result.type !== "reply") continue;
      const reply = buildReplyFrame(this.#signer, packet.id, result.body);
      const frame = reply instanceof Uint8Array ? reply : await reply;
      if (connection.send(frame)) this.metrics.framesOut++;
    }
    if (undecodable !== null) throw undecodable;
  }

  #dropped(connection: RelayConnection, packet: IncomingPacket): void {
    if (packet.unsigned) this.metrics.droppedUnsigned++;
    else this.metrics.droppedBadSignature++;
    this.#logger.debug(
      `Dropped ${
        packet.unsigned ? "unsigned" : "invalid"
      } packet from ${connection.remote} (src ${JSON.stringify(packet.src)})`,
    );
  }

  #sendHeartbeats(): void {
    for (const peer of [...this.#router.registeredPeers()]) {
      if (peer.send(this.#heartbeat)) {
        this.metrics.heartbeats++;
        this.metrics.framesOut++;
      }
    }
  }
}
