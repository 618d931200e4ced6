/** The keep relay: keep-protocol policy on the shared TCP server; verifies packets, routes them. */
import { Identity } from "../crypto/mod.ts";
import { formatAddress, QueueBudget, TcpServer } from "../net/mod.ts";
import type { FrameConnection } from "../net/mod.ts";
import type { Logger } from "../util/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import { SYSTEM_CLOCK } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { KEEP_FRAME_LIMITS } from "./frame.ts";
import { createPacket } from "./packet.ts";
import { RelayMetrics } from "./relay_metrics.ts";
import { Router } from "./router.ts";
import { RateMeter } from "./_rate_meter.ts";
import { readPackets } from "./_incoming.ts";
import type { IncomingPacket } from "./_incoming.ts";
import { RelayConnection } from "./_relay_connection.ts";
import { sleep } from "./_abort.ts";
import { buildFrame, buildReplyFrame, publicKeyField } from "./_reply_frame.ts";
import type { Signer } from "./_reply_frame.ts";
import type {
  RelayServerDeps,
  RelayServerOptions,
} from "./relay_server_options.ts";

export type { RelayServerDeps, RelayServerOptions };

const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const DEFAULT_MAX_QUEUE_BYTES_TOTAL = 256 * 1024 * 1024;
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
  #server: TcpServer<RelayConnection>;
  #identity: Identity;
  #signer: Signer | null;
  #logger: Logger;
  #clock: Clock;
  #router: Router;
  // One meter for every connection; each connection keeps its bucket as one number.
  #meter: RateMeter | null;
  #heartbeat: Uint8Array;
  // Connections accepted and not yet finished (their last writes included), for dispose.
  #live = 0;
  #allFinished: (() => void) | null = null;
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
    const rateLimit = options.rateLimit ?? 1_000;
    this.#meter = Number.isFinite(rateLimit)
      ? new RateMeter({ clock: this.#clock }, {
        ratePerSecond: rateLimit,
        burst: options.rateBurst ?? 2_000,
      })
      : null;
    const routerOptions = {
      bindIdentities: options.bindIdentities ?? false,
      takeover: options.takeover ?? "same_key",
    };
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
      queueBudget: new QueueBudget(
        options.maxQueueBytesTotal ?? DEFAULT_MAX_QUEUE_BYTES_TOTAL,
        () => this.#closeLargestQueue(),
      ),
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
      connectionClass: RelayConnection,
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
      if (this.#live > 0) {
        await new Promise<void>((resolve) => this.#allFinished = resolve);
      }
      this.#logger.info("Relay stopped");
    })();
    return this.#disposed;
  }

  /** Disconnects the receiver with the most bytes waiting, as too slow; false when none waits. */
  #closeLargestQueue(): boolean {
    let largest: RelayConnection | null = null;
    let most = 0;
    for (const conn of this.#server.connections()) {
      const waiting = conn.waitingBytes;
      if (waiting > most) {
        most = waiting;
        largest = conn;
      }
    }
    largest?.close(
      `outbound queues over their total budget: this one held the most (${most} bytes)`,
      "slow",
    );
    return largest !== null;
  }

  #closed(conn: RelayConnection): void {
    this.#router.removePeer(conn);
    conn.dispose();
    this.metrics.connectionsOpen = this.#server.connectionCount;
    if (conn.closeKind === "slow") this.metrics.closedSlow++;
    if (conn.closeKind === "write_timeout") this.metrics.closedWriteTimeout++;
    if (conn.closeKind === "handshake_timeout") this.metrics.closedIdle++;
    this.#logger.debug(
      `Closed connection from ${formatAddress(conn.remote)}: ${
        conn.closeReason ?? "closed"
      }`,
    );
  }

  // Returns nothing: the relay owns the connection, and while it waits for a frame it holds no
  // promise or suspended function for it (ten thousand idle agents stay cheap).
  #serve(conn: RelayConnection): void {
    this.#live++;
    this.metrics.connectionsAccepted++;
    this.metrics.connectionsOpen = this.#server.connectionCount;
    conn.waitForFrame(this.#onFrame);
  }

  // One callback for every waiting connection.
  #onFrame = (frameConn: FrameConnection, frame: Uint8Array | null): void => {
    const conn = frameConn as RelayConnection;
    // Never rejects; dispose waits for the connection through #live.
    if (frame === null || conn.closed) this.#finish(conn, null);
    else this.#serveFrames(conn, frame);
  };

  /**
   * Serves `first` and the frames already received after it, then waits for more or finishes.
   * Frames go in batches, metered frame by frame with the connection's bucket: the frames before
   * one that must wait are handled (parsed, verified together, routed in order), then the pause.
   * One async function for all of it: every suspended frame is garbage the young heap pays for.
   */
  async #serveFrames(
    conn: RelayConnection,
    first: Uint8Array,
  ): Promise<void> {
    const metrics = this.metrics;
    const meter = this.#meter;
    try {
      let frame: Uint8Array | undefined = first;
      do {
        const frames = [frame];
        while (frames.length < MAX_BATCH_FRAMES) {
          const next = conn.bufferedFrame();
          if (next === undefined) break;
          frames.push(next);
        }
        let from = 0;
        for (let i = 0; i <= frames.length; i++) {
          let waitMs = 0;
          if (i < frames.length) {
            metrics.framesIn++;
            metrics.bytesIn += frames[i]!.length;
            waitMs = meter?.take(conn) ?? 0;
            if (waitMs <= 0) continue;
          }
          if (i > from && !conn.closed) {
            const packets = new Array<IncomingPacket>(i - from);
            let undecodable = readPackets(frames, from, packets);
            const verdicts = packets.length === 1
              ? [await packets[0]!.valid]
              : await Promise.all(packets.map((p) => p.valid));
            for (let k = 0; k < packets.length; k++) {
              // Closed meanwhile (e.g. taken over): its packets must not register anything.
              if (conn.closed) {
                undecodable = null;
                break;
              }
              if (!verdicts[k]) {
                this.#dropped(conn, packets[k]!);
                continue;
              }
              const reply = this.#route(
                conn,
                packets[k]!,
                frames[from + k]!,
              );
              if (reply === null) continue;
              const bytes = reply instanceof Uint8Array ? reply : await reply;
              if (conn.sendFrame(bytes)) metrics.framesOut++;
            }
            // The packets before it were answered; now the connection closes.
            if (undecodable !== null) throw undecodable;
          }
          if (i === frames.length) break;
          metrics.throttled++;
          await sleep(waitMs, conn.signal);
          if (conn.closed) break;
          from = i;
        }
        if (conn.closed) break;
        // Nothing refers to the frames answered here any more: read into their bytes again.
        if (!conn.forwarded) conn.releaseFrames();
        frame = conn.bufferedFrame();
      } while (frame !== undefined);
    } catch (error) {
      // An undecodable packet (SyntaxError) or a reply too large to frame (RangeError).
      if (error instanceof RangeError || error instanceof SyntaxError) {
        this.metrics.closedMalformed++;
      }
      return this.#finish(conn, (error as Error).message);
    }
    if (conn.closed || conn.readEnd !== null) {
      return this.#finish(conn, null);
    }
    conn.waitForFrame(this.#onFrame);
  }

  /** Routes a verified packet; the reply frame to send back, or null when there is none. */
  #route(
    conn: RelayConnection,
    packet: IncomingPacket,
    frame: Uint8Array,
  ): Uint8Array | Promise<Uint8Array> | null {
    const result = this.#router.route(conn, packet, frame);
    if (conn.identities !== null) conn.completeHandshake();
    if (result.type === "forwarded") conn.forwarded = true;
    return result.type === "reply"
      ? buildReplyFrame(this.#signer, packet.id, result.body)
      : null;
  }

  /**
   * Ends serving a connection: its identities go offline now; the replies already queued still
   * go out (the original answered each packet before reading the next one; the write deadline
   * bounds this), then it closes. `error` is why serving stopped, null when reading ended.
   */
  async #finish(
    conn: RelayConnection,
    error: string | null,
  ): Promise<void> {
    let reason = error ?? "peer closed the connection";
    if (error === null) {
      if (conn.readEnd === "malformed") this.metrics.closedMalformed++;
      if (conn.readEnd !== "eof") reason = conn.closeReason ?? reason;
    }
    this.#router.removePeer(conn);
    await conn.drained();
    conn.close(reason);
    if (--this.#live === 0) this.#allFinished?.();
  }

  #dropped(conn: RelayConnection, packet: IncomingPacket): void {
    if (packet.unsigned) this.metrics.droppedUnsigned++;
    else this.metrics.droppedBadSignature++;
    this.#logger.debug(
      `Dropped ${packet.unsigned ? "unsigned" : "invalid"} packet from ${
        formatAddress(conn.remote)
      } (src ${JSON.stringify(packet.src)})`,
    );
  }

  #sendHeartbeats(): void {
    for (const peer of [...this.#router.registeredPeers()]) {
      if (peer.sendFrame(this.#heartbeat)) {
        this.metrics.heartbeats++;
        this.metrics.framesOut++;
      }
    }
  }
}
