/** The asset sidecar: signed HTTPS access to the node's asset directory. */
import type { AssetStore } from "../assets/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import type { SidecarCertificate } from "./certificate.ts";
import { AssetRoutes, clientGone } from "./_asset_routes.ts";
import type { Duplex } from "./_duplex.ts";
import {
  BufferedReader,
  HeadError,
  parseRequestHead,
  type RequestHead,
} from "./_http.ts";
import { Responder } from "./_responder.ts";
import { Admission } from "./_admission.ts";
import { listenTunnel, type Tunnel } from "./_tls.ts";

/** Collaborators of {@linkcode SidecarServer}. */
export interface SidecarServerDeps {
  /** The node identity: its key is the TLS key, and only it may DELETE. */
  identity: Identity;
  /** The node's self-signed certificate (see `loadOrCreateCertificate`). */
  certificate: SidecarCertificate;
  /** The asset directory served. */
  assets: AssetStore;
  /** Unix seconds, for request signatures. Default: the system clock. */
  clock?: { now(): number };
  /** Where requests and faults are logged. Default: silent. */
  logger?: Logger;
  /** Whether a signer may upload (`[sidecar] allow_uploads`). Default: every signer. */
  allowUpload?: (who: { nodeId: string; publicKey: string }) => boolean;
}

/** Options for {@linkcode SidecarServer.start}. */
export interface SidecarServerOptions {
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Requests served at once (past their head), uploads at most half of them; more get 503. Default 64. */
  maxConnections?: number;
  /**
   * Connections from one remote address at once; more are closed at once. Default 16. (In all,
   * 4 × `maxConnections` are admitted; past that the oldest still sending its request gives way.)
   */
  maxConnectionsPerAddress?: number;
  /** Each header line must arrive within this many ms. Default 10000. */
  headerLineTimeoutMs?: number;
  /** The whole head must arrive within this many ms. Default 30000. */
  headTimeoutMs?: number;
  /** An upload body must arrive within this many ms. Default 300000. */
  bodyTimeoutMs?: number;
  /**
   * After `uploadGraceMs`, an upload body must keep arriving at this many bytes a second on
   * average (slow uploads would hold connections and quota). Default 16384.
   */
  minUploadBytesPerSecond?: number;
  /** Milliseconds before the upload rate is checked. Default 10000. */
  uploadGraceMs?: number;
  /** Largest request head in bytes. Default 16384. */
  maxHeadBytes?: number;
  /**
   * Signatures remembered against replay (each for its timestamp's ±60 s). Default 100000.
   * A flood filling it raises the oldest timestamp accepted instead of refusing everyone
   * (see `RequestVerifierOptions.maxRemembered`).
   */
  replayMemory?: number;
}

/** Counters of a sidecar, for operators. */
export interface SidecarStats {
  /** Connections taken. */
  connections: number;
  /** Connections closed at once over a cap (per address, or all 4 × `maxConnections` busy). */
  refused: number;
  /** Connections still sending their request closed to make room for new ones. */
  evicted: number;
  /** Times an address was refused at accept for a second after repeated 503s. */
  backedOff: number;
  /** Plaintext clients answered 400. */
  plaintext: number;
  /** Responses by status code. */
  responses: Record<number, number>;
  /** Body bytes stored. */
  bytesIn: number;
  /** Body bytes sent. */
  bytesOut: number;
}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  maxConnections: 64,
  maxConnectionsPerAddress: 16,
  headerLineTimeoutMs: 10_000,
  headTimeoutMs: 30_000,
  bodyTimeoutMs: 300_000,
  minUploadBytesPerSecond: 16_384,
  uploadGraceMs: 10_000,
  maxHeadBytes: 16_384,
  replayMemory: 100_000,
};

/**
 * The asset sidecar server, wire-compatible with the original Python node's.
 *
 * @example
 * ```ts
 * import { AssetStore } from "../assets/mod.ts";
 * import { Identity } from "../crypto/mod.ts";
 * import { createCertificate, SidecarServer } from "./mod.ts";
 * const identity = await Identity.generate();
 * await using sidecar = await SidecarServer.start({
 *   identity,
 *   certificate: await createCertificate(identity),
 *   assets: new AssetStore("/tmp/assets"),
 * }, { port: 9001 });
 * ```
 */
export class SidecarServer {
  /** Counters since start. */
  readonly stats: SidecarStats = {
    connections: 0,
    refused: 0,
    evicted: 0,
    backedOff: 0,
    plaintext: 0,
    responses: {},
    bytesIn: 0,
    bytesOut: 0,
  };
  #o: typeof DEFAULTS;
  #responder: Responder;
  #routes: AssetRoutes;
  #log: Logger;
  #tunnel: Tunnel | null = null;
  #admission: Admission;
  #serving = 0;
  #uploading = 0;
  #maxUploads: number;

  private constructor(deps: SidecarServerDeps, options: typeof DEFAULTS) {
    this.#o = options;
    this.#maxUploads = Math.max(1, options.maxConnections >> 1);
    this.#admission = new Admission(this.stats, {
      maxConnections: options.maxConnections * 4,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress,
    });
    this.#log = deps.logger ?? SILENT_LOGGER;
    this.#responder = new Responder(this.stats.responses);
    this.#routes = new AssetRoutes({
      identity: deps.identity,
      assets: deps.assets,
      clock: deps.clock,
      allowUpload: deps.allowUpload,
      responder: this.#responder,
      stats: this.stats,
      logger: this.#log,
    }, {
      bodyTimeoutMs: options.bodyTimeoutMs,
      minUploadBytesPerSecond: options.minUploadBytesPerSecond,
      uploadGraceMs: options.uploadGraceMs,
      replayMemory: options.replayMemory,
    });
  }

  /** Opens the asset directory and listens; throws when the port is taken. */
  static async start(
    deps: SidecarServerDeps,
    options: SidecarServerOptions = {},
  ): Promise<SidecarServer> {
    const o = { ...DEFAULTS };
    for (const [k, v] of Object.entries(options)) {
      if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    }
    const server = new SidecarServer(deps, o);
    await deps.assets.open();
    server.#tunnel = listenTunnel({
      hostname: o.host,
      port: o.port,
      certPem: deps.certificate.certPem,
      keyPem: deps.certificate.keyPem,
      handshakeTimeoutMs: o.headerLineTimeoutMs,
    }, {
      admit: (remote, close) => server.#admission.admit(remote.hostname, close),
      plaintext: (conn) => server.#plaintext(conn),
      secure: (conn, remote, admission) =>
        server.#secure(conn, remote.hostname, admission),
      closed: (admission) => server.#admission.release(admission),
    });
    return server;
  }

  /** The bound host. */
  get host(): string {
    return this.#tunnel?.hostname ?? this.#o.host;
  }

  /** The bound port. */
  get port(): number {
    return this.#tunnel?.port ?? 0;
  }

  /** Stops listening and closes every connection; idempotent. */
  async close(): Promise<void> {
    const tunnel = this.#tunnel;
    this.#tunnel = null;
    await tunnel?.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #plaintext(conn: Duplex): Promise<void> {
    this.stats.plaintext++;
    await this.#responder.json(conn, 400, {
      error:
        "This port speaks HTTPS only: the knarr asset sidecar needs TLS (https://)",
    }, { linger: true });
  }

  async #secure(
    conn: Duplex,
    remote: string,
    admission: number,
  ): Promise<void> {
    let serving = false;
    let uploading = false;
    try {
      const reader = new BufferedReader(conn);
      let head: RequestHead;
      try {
        head = parseRequestHead(
          await reader.readHeadText({
            maxBytes: this.#o.maxHeadBytes,
            lineTimeoutMs: this.#o.headerLineTimeoutMs,
            totalTimeoutMs: this.#o.headTimeoutMs,
          }),
        );
      } catch (error) {
        if (!(error instanceof HeadError)) throw error;
        if (error.message === "No request") return;
        this.#log.debug(
          `Sidecar: bad request from ${remote}: ${error.message}`,
        );
        await this.#responder.json(conn, error.status, {
          error: error.message,
        }, { linger: true });
        return;
      }
      // Only requests past their head count: slow heads cannot take the slots; nor do
      // refusals, which linger a second for the client to read them.
      if (this.#serving >= this.#o.maxConnections) {
        this.#admission.refusedBusy(remote);
        await this.#responder.json(conn, 503, {
          error:
            `Too many connections: at most ${this.#o.maxConnections} at once; try again`,
        }, { linger: true });
        return;
      }
      // Uploads get half the slots: slow ones cannot keep downloads out.
      if (head.method === "PUT" && this.#uploading >= this.#maxUploads) {
        this.#admission.refusedBusy(remote);
        await this.#responder.json(conn, 503, {
          error:
            `Too many uploads: at most ${this.#maxUploads} at once; try again`,
        }, { linger: true });
        return;
      }
      serving = true;
      this.#serving++;
      uploading = head.method === "PUT";
      if (uploading) this.#uploading++;
      // Anything but an upload answers from here on: it no longer gives way to newer ones.
      if (head.method !== "PUT") this.#admission.answering(admission);
      const status = await this.#routes.route(conn, reader, head);
      this.#log.debug(
        `Sidecar: ${head.method} ${
          head.target.slice(0, 80)
        } -> ${status} (${remote})`,
      );
    } catch (error) {
      // A client that hangs up mid-download is ordinary; anything else is worth a warning.
      const gone = clientGone(error);
      this.#log[gone ? "debug" : "warn"](
        `Sidecar: request from ${remote} failed: ${(error as Error).message}`,
      );
    } finally {
      if (serving) this.#serving--;
      if (uploading) this.#uploading--;
    }
  }
}
