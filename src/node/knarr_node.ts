/** KnarrNode: the composition root of a node and the public programmatic API. */
import type { HostPort, KnarrConfig } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import {
  buildSheet,
  Discovery,
  PeerTable,
  SkillTable,
  SYSTEM_CLOCK,
} from "../discovery/mod.ts";
import type {
  Clock,
  DiscoveryOptions,
  JoinOutcome,
  Messenger,
  QueryOptions,
  QueryResult,
  QuerySpec,
  Reply,
  RequestOptions,
  SheetSource,
} from "../discovery/mod.ts";
import {
  Database,
  DemandRepo,
  loadOrCreateIdentity,
  PeerRepo,
  SkillRepo,
} from "../store/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  signMessage,
  verifyMessage,
} from "../wire/mod.ts";
import type {
  JsonObject,
  Message,
  MessageFields,
  MessageType,
} from "../wire/mod.ts";
import { chooseAdvertiseHost } from "./advertise.ts";
import type { AdvertiseChoice } from "./advertise.ts";
import { TcpTransport } from "./transport.ts";
import type { Listening, Transport } from "./transport.ts";

/** Options for {@linkcode KnarrNode.create}. */
export interface KnarrNodeOptions {
  /** SQLite file, or ":memory:" (default) for a node that forgets everything. */
  storage?: string;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Address announced to others; default: the bound host, or detected when bound to 0.0.0.0. */
  advertiseHost?: string | null;
  /** Sidecar port announced with skills. Default 0 (none). */
  sidecarPort?: number;
  /** Transport; default real TCP. */
  transport?: Transport;
  /** Discovery timings and limits. */
  discovery?: DiscoveryOptions;
  /** Inbound connection limits (TCP transport). */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  idleTimeoutMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Use this identity instead of the database's. */
  identity?: Identity;
}

/** Counters of messages refused by this node. */
export interface NodeStats {
  /** Messages dropped, by reason ("unsigned", "bad signature", "node_id mismatch", "malformed", …). */
  rejected: Record<string, number>;
  /** Verified messages handled. */
  handled: number;
}

/** Handles TASK_REQUEST and other task messages; installed by the tasks layer. */
export type TaskMessageHandler = (
  message: Message,
  senderNodeId: string,
  remoteHost: string,
) => Promise<Reply | null>;

/**
 * A knarr node.
 *
 * @example
 * ```ts
 * await using node = await KnarrNode.create({ storage: ":memory:" });
 * await node.start();
 * await node.join([{ host: "127.0.0.1", port: 9000 }]);
 * const results = await node.query({ name: "echo" });
 * ```
 */
export class KnarrNode {
  readonly identity: Identity;
  readonly stats: NodeStats = { rejected: {}, handled: 0 };
  readonly db: Database;
  readonly discovery: Discovery;
  #options: KnarrNodeOptions;
  #transport: Transport;
  #log: Logger;
  #listening: Listening | null = null;
  #advertise: AdvertiseChoice | null = null;
  #self: {
    nodeId: string;
    publicKey: string;
    host: string;
    port: number;
    sidecarPort: number;
  };
  #taskHandler: TaskMessageHandler | null = null;
  #closed = false;

  private constructor(
    db: Database,
    identity: Identity,
    options: KnarrNodeOptions,
  ) {
    this.db = db;
    this.identity = identity;
    this.#options = options;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#transport = options.transport ?? new TcpTransport({
      ...(options.maxConnections
        ? { maxConnections: options.maxConnections }
        : {}),
      ...(options.maxConnectionsPerAddress
        ? { maxConnectionsPerAddress: options.maxConnectionsPerAddress }
        : {}),
      ...(options.idleTimeoutMs
        ? { idleTimeoutMs: options.idleTimeoutMs }
        : {}),
      logger: this.#log,
    });
    this.#self = {
      nodeId: identity.nodeId,
      publicKey: identity.publicKey,
      host: options.advertiseHost ?? options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      sidecarPort: options.sidecarPort ?? 0,
    };
    const messenger: Messenger = {
      request: (to, type, fields, opts) => this.request(to, type, fields, opts),
      forward: (to, message, opts) => this.#exchange(to, message, opts),
    };
    this.discovery = new Discovery({
      self: this.#self,
      signer: identity,
      messenger,
      clock: options.clock ?? SYSTEM_CLOCK,
      peers: new PeerTable(identity.nodeId, new PeerRepo(db)),
      skills: new SkillTable(new SkillRepo(db)),
      demand: new DemandRepo(db),
      logger: this.#log.child("discovery"),
    }, options.discovery);
  }

  /** Opens the store, loads or creates the identity; call `start()` to listen. */
  static async create(options: KnarrNodeOptions = {}): Promise<KnarrNode> {
    const db = Database.open(options.storage ?? ":memory:");
    try {
      const identity = options.identity ?? await loadOrCreateIdentity(db);
      return new KnarrNode(db, identity, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Creates a node from a validated configuration (storage, addresses, timeouts). */
  static fromConfig(
    config: KnarrConfig,
    options: Omit<KnarrNodeOptions, "storage" | "host" | "port"> = {},
  ) {
    return KnarrNode.create({
      storage: config.node.storage,
      host: config.node.host,
      port: config.node.port,
      advertiseHost: config.node.advertiseHost,
      // The asset sidecar is not built yet: announce no sidecar port rather than a dead one.
      sidecarPort: 0,
      ...options,
      discovery: { fanout: config.network.gossipFanout, ...options.discovery },
    });
  }

  /** This node's id. */
  get nodeId(): string {
    return this.identity.nodeId;
  }

  /** The address other nodes use to reach this one (valid after `start()`). */
  get address(): HostPort {
    return { host: this.#self.host, port: this.#self.port };
  }

  /** The bound listener address, or null before `start()`. */
  get listening(): HostPort | null {
    return this.#listening
      ? { host: this.#listening.host, port: this.#listening.port }
      : null;
  }

  /** How the advertised host was chosen (after `start()`). */
  get advertise(): AdvertiseChoice | null {
    return this.#advertise;
  }

  /** Installs the handler for task messages (TASK_REQUEST, TASK_RESULT pushes, …). */
  setTaskHandler(handler: TaskMessageHandler): void {
    this.#taskHandler = handler;
  }

  /** Binds the listener, settles the advertised address and starts maintenance. */
  async start(options: { maintenance?: boolean } = {}): Promise<HostPort> {
    if (this.#listening) return this.address;
    const host = this.#options.host ?? "127.0.0.1";
    this.#listening = await this.#transport.listen(
      host,
      this.#options.port ?? 0,
      (body, remote) => this.handleBody(body, remote),
    );
    this.#advertise = chooseAdvertiseHost(
      this.#options.advertiseHost ?? null,
      this.#listening.host,
    );
    this.#self.host = this.#advertise.host;
    this.#self.port = this.#listening.port;
    if (options.maintenance !== false) this.discovery.start();
    return this.address;
  }

  /** Sets the advertised host (one-shot commands use the route toward their bootstrap). */
  setAdvertiseHost(host: string): void {
    this.#self.host = host;
  }

  /** Joins the network through the first bootstrap that answers. */
  join(
    bootstrap: readonly HostPort[],
    options: { ephemeral?: boolean; signal?: AbortSignal } = {},
  ): Promise<JoinOutcome> {
    return this.discovery.join(bootstrap, options);
  }

  /** Announces a skill sheet (or builds it from a source); private skills stay local. */
  async announce(
    sheet: JsonObject | SheetSource,
    visibility = "public",
  ): Promise<void> {
    const built = "inputSchema" in sheet
      ? buildSheet(sheet as SheetSource)
      : sheet as JsonObject;
    await this.discovery.announce(built, visibility);
  }

  /** Removes an own skill and tells the network. */
  deregister(skillName: string): Promise<boolean> {
    return this.discovery.deregister(skillName);
  }

  /** Finds skills on the network (and locally). */
  query(spec: QuerySpec, options?: QueryOptions): Promise<QueryResult[]> {
    return this.discovery.query(spec, options);
  }

  /** Signs and sends one message; resolves the verified reply (null if none). */
  async request<T extends MessageType>(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    options: RequestOptions = {},
  ): Promise<Message | null> {
    const message = await signMessage(type, fields, this.identity);
    return await this.#exchange(to, message as Message, options);
  }

  async #exchange(
    to: HostPort,
    message: Message,
    options: RequestOptions = {},
  ): Promise<Message | null> {
    const reply = await this.#transport.exchange(to, encodeMessage(message), {
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (reply === null) return null;
    let decoded;
    try {
      decoded = decodeMessage(reply);
    } catch {
      this.#reject("malformed reply", `from ${to.host}:${to.port}`);
      return null;
    }
    const verified = await verifyMessage(decoded);
    if (verified.status !== "ok") {
      this.#reject(
        verified.status === "invalid" ? verified.reason : "unverifiable",
        `reply from ${to.host}:${to.port}`,
      );
      return null;
    }
    return verified.message;
  }

  /**
   * Handles one received frame body: decode, verify, dispatch. Invalid messages get no
   * reply and close the connection; nothing a peer sends can throw out of here.
   */
  async handleBody(
    body: Uint8Array,
    remoteHost: string,
  ): Promise<Uint8Array | null | "close"> {
    let decoded;
    try {
      decoded = decodeMessage(body);
    } catch (error) {
      this.#reject(
        "malformed",
        `from ${remoteHost}: ${(error as Error).message}`,
      );
      return "close";
    }
    const verified = await verifyMessage(decoded);
    if (verified.status === "unverifiable") {
      this.#log.debug(`Ignoring ${verified.type} from ${remoteHost}`);
      return null;
    }
    if (verified.status === "invalid") {
      this.#reject(
        verified.reason,
        `${decoded.type} from ${remoteHost}: ${verified.detail}`,
      );
      return "close";
    }
    const message = verified.message;
    this.stats.handled++;
    try {
      const senderId = await this.discovery.noteContact(message);
      let reply: Reply | null;
      switch (message.type) {
        case "TASK_REQUEST":
        case "TASK_RESULT":
        case "TASK_STATUS":
          reply = this.#taskHandler
            ? await this.#taskHandler(message, senderId, remoteHost)
            : message.type === "TASK_REQUEST"
            ? {
              type: "TASK_RESULT",
              fields: {
                task_id: message.task_id,
                status: "failed",
                error: {
                  code: "UNKNOWN_SKILL",
                  message:
                    `No handler for skill '${message.skill_name.toLowerCase()}'`,
                },
              },
            }
            : null;
          break;
        default:
          reply = await this.discovery.handle(message, remoteHost);
      }
      if (!reply) return null;
      const signed = await signMessage(
        reply.type,
        reply.fields as never,
        this.identity,
        reply.msgId ? { msgId: reply.msgId } : {},
      );
      return encodeMessage(signed);
    } catch (error) {
      this.#log.warn(
        `Cannot handle ${message.type} from ${remoteHost}: ${
          (error as Error).message
        }`,
      );
      return "close";
    }
  }

  #reject(reason: string, detail: string): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    this.#log.warn(`Dropped message (${reason}): ${detail}`);
  }

  /** Tells peers our skills are gone (keeping them in our store for the next start). */
  async withdraw(): Promise<void> {
    for (const e of this.discovery.skills.own()) {
      if (e.visibility === "private") continue;
      const msg = await signMessage("DEREGISTER", {
        node_id: this.nodeId,
        skill_key: e.skillKey,
        hops: 0,
      }, this.identity);
      await Promise.all(
        this.discovery.peers.sample(Infinity).map((p) =>
          this.#exchange(p, msg as Message, { timeoutMs: 2000 }).catch(() =>
            null
          )
        ),
      );
    }
  }

  /** Stops listening and maintenance, flushes and closes the database; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.discovery.close();
    await this.#listening?.close();
    this.db.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
