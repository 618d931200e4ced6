/** KnarrNode: the composition root of a node and the public programmatic API. */
import type { AssetStore } from "../assets/mod.ts";
import type { HostPort, KnarrConfig } from "../config/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import { buildSheet } from "../discovery/mod.ts";
import type {
  Discovery,
  JoinOutcome,
  QueryResult,
  QuerySpec,
  RequestOptions,
  SelfAddress,
  SheetSource,
} from "../discovery/mod.ts";
import type { Database } from "../store/mod.ts";
import type {
  GroupCommit,
  LedgerRepo,
  StorageHealth,
  TaskRepo,
} from "../store/mod.ts";
import type {
  SidecarServer,
  TransferOptions,
  UploadOutcome,
} from "../sidecar/mod.ts";
import type {
  TaskConsumer,
  TaskOutcome,
  TaskProvider,
  TaskRequestOptions,
} from "../tasks/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import { signMessage } from "../wire/mod.ts";
import type {
  JsonObject,
  Message,
  MessageFields,
  MessageType,
} from "../wire/mod.ts";
import { chooseAdvertiseHost } from "./advertise.ts";
import type { AdvertiseChoice } from "./advertise.ts";
import type { AssetPeer, NodeAssets } from "./node_assets.ts";
import type { LocalSkills } from "./_local_skills.ts";
import type { NodeMessages } from "./_messages.ts";
import type { NodeMetrics } from "./node_metrics.ts";
import type { SkillSwitches } from "./skill_switches.ts";
import type { NodeDht, NodeQueryOptions } from "./_dht.ts";
import { nodeOptionsFromConfig, wireNode } from "./_wiring.ts";
import { openNodeStore } from "./_node_store.ts";
import { ReadyGate } from "./_ready_gate.ts";
import type {
  InProcessHandler,
  KnarrNodeOptions,
  NodeStats,
  SkillAccess,
  StartOptions,
} from "./node_options.ts";
import type { Listening, Transport } from "./transport.ts";

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
  /** The node's Ed25519 key pair; its node id is the SHA-256 of the public key. */
  readonly identity: Identity;
  /** Counters of handled and rejected messages. */
  readonly stats: NodeStats = { rejected: {}, handled: 0 };
  /** The SQLite store. */
  readonly db: Database;
  /** Peers, skills, join, gossip and queries. */
  readonly discovery: Discovery;
  /** Runs tasks that other nodes request of this node. */
  readonly provider: TaskProvider;
  /** Requests tasks of other nodes. */
  readonly consumer: TaskConsumer;
  /** Credit balance with each peer. */
  readonly ledger: LedgerRepo;
  /** Task history, both roles. */
  readonly tasks: TaskRepo;
  /** Whether the store takes writes; while it does not, paid tasks are refused. */
  readonly storage: StorageHealth;
  /** Counters, histograms and the last tasks; `metrics.registry.render()` is `/metrics`. */
  readonly metrics: NodeMetrics;
  /** Own skills switched off (refused with `SKILL_DISABLED`), kept in the store. */
  readonly skillSwitches: SkillSwitches;
  #local: LocalSkills;
  #messages: NodeMessages;
  #dht: NodeDht;
  #options: KnarrNodeOptions;
  #transport: Transport;
  #log: Logger;
  #listening: Listening | null = null;
  #advertise: AdvertiseChoice | null = null;
  #self: SelfAddress;
  #assets: NodeAssets;
  #commits: GroupCommit;
  #gate = new ReadyGate();
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
    const parts = wireNode(db, identity, options, {
      log: this.#log,
      stats: this.stats,
      sendMessage: (to, type, fields, opts) =>
        this.sendMessage(to, type, fields, opts),
      sendSigned: (to, message, opts) => this.sendSigned(to, message, opts),
    });
    this.#transport = parts.transport;
    this.#self = parts.self;
    this.ledger = parts.ledger;
    this.tasks = parts.tasks;
    this.#commits = parts.commits;
    this.storage = parts.storage;
    this.#local = parts.local;
    this.provider = parts.provider;
    this.consumer = parts.consumer;
    this.discovery = parts.discovery;
    this.#assets = parts.assets;
    this.#messages = parts.messages;
    this.#dht = parts.dht;
    this.metrics = parts.metrics;
    this.skillSwitches = parts.switches;
  }

  /** Opens the store, loads or creates the identity; call `start()` to listen. */
  static async create(options: KnarrNodeOptions = {}): Promise<KnarrNode> {
    const { db, identity } = await openNodeStore(options);
    return new KnarrNode(db, identity, options);
  }

  /** Creates a node from a validated configuration (storage, addresses, timeouts). */
  static fromConfig(
    config: KnarrConfig,
    options: Omit<KnarrNodeOptions, "storage" | "host" | "port"> = {},
  ): Promise<KnarrNode> {
    return KnarrNode.create(nodeOptionsFromConfig(config, options));
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

  /**
   * Binds the listener, settles the advertised address and starts maintenance. With
   * `ready`, messages that arrive before it settles wait for it: a node that still loads
   * its skills answers once they are there, not `UNKNOWN_SKILL` meanwhile.
   */
  async start(options: StartOptions = {}): Promise<HostPort> {
    if (this.#listening) return this.address;
    if (options.ready) this.#gate.hold(options.ready);
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
    if (this.#options.sidecar) {
      try {
        this.#self.sidecarPort = await this.#assets.startSidecar(
          this.#options.sidecar,
          host,
        );
      } catch (error) {
        await this.#listening.close();
        this.#listening = null;
        throw error;
      }
    }
    if (options.maintenance !== false) this.discovery.start();
    return this.address;
  }

  /** The running asset sidecar, or null. */
  get sidecar(): SidecarServer | null {
    return this.#assets.sidecar;
  }

  /** The node's asset directory, or null. */
  get assets(): AssetStore | null {
    return this.#options.assets ?? null;
  }

  /**
   * Uploads bytes or a file to a node's sidecar (a signed HEAD first: nothing is sent
   * when it already has them); returns the hash to pass as `knarr-asset://<hash>`.
   *
   * @example
   * ```ts
   * const [provider] = await node.query({ name: "gzip" });
   * const { hash } = await node.uploadAsset(provider!, "photo.png");
   * await node.request("gzip", { file: `knarr-asset://${hash}` });
   * ```
   */
  uploadAsset(
    peer: AssetPeer,
    source: Uint8Array | string,
    options: TransferOptions = {},
  ): Promise<UploadOutcome> {
    return this.#assets.upload(peer, source, options);
  }

  /**
   * Downloads an asset from a node's sidecar, checked against its hash: to `path`, or
   * without one into this node's asset directory. Resolves the local path and size.
   */
  downloadAsset(
    peer: AssetPeer,
    hash: string,
    path?: string,
    options: TransferOptions = {},
  ): Promise<{ path: string; size: number }> {
    return this.#assets.download(peer, hash, path, options);
  }

  /** Sets the advertised host, and port when given (a relayed address has the relay's). */
  setAdvertiseHost(host: string, port?: number): void {
    this.#self.host = host;
    if (port !== undefined) this.#self.port = port;
  }

  /** Joins the network through the first bootstrap that answers. */
  join(
    bootstrap: readonly HostPort[],
    options: { ephemeral?: boolean; signal?: AbortSignal } = {},
  ): Promise<JoinOutcome> {
    return this.discovery.join(bootstrap, options);
  }

  /**
   * Announces a skill sheet (or builds it from a source) with how it may be called;
   * private skills stay on this node.
   */
  async announce(
    sheet: JsonObject | SheetSource,
    access: SkillAccess = {},
  ): Promise<void> {
    const built = "inputSchema" in sheet
      ? buildSheet(sheet as SheetSource)
      : sheet as JsonObject;
    this.#local.setAccess(String(built.name), access);
    await this.discovery.announce(built, access.visibility ?? "public");
    this.#dht.provideSoon(String(built.name));
  }

  /**
   * Registers an in-process handler for an announced skill. In-process handlers are NOT
   * sandboxed: they run with the node's permissions and cannot be stopped on timeout.
   *
   * @example
   * ```ts
   * await node.announce({ name: "upper", version: "1.0.0", description: "Upper-cases text",
   *   tags: ["text"], inputSchema: { text: "string" }, outputSchema: { text: "string" },
   *   price: 1, maxInputSize: 65536 });
   * node.registerHandler("upper", (input) => ({ text: String(input.text).toUpperCase() }));
   * ```
   */
  registerHandler(name: string, handler: InProcessHandler): void {
    this.#local.register(name, handler);
  }

  /** Runs one of our own skills directly: no network, no policy, private skills too. */
  callLocal(
    name: string,
    input: JsonObject,
    options: { timeoutMs?: number } = {},
  ): Promise<JsonObject> {
    return this.#local.call(name, input, options);
  }

  /** Finds the best providers of `skill` and runs it there (see {@linkcode TaskConsumer.request}). */
  async request(
    skill: string,
    input: JsonObject,
    options: TaskRequestOptions = {},
  ): Promise<TaskOutcome> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const started = performance.now();
    const providers = await this.query({ name: skill }, {
      timeoutMs: Math.min(timeoutMs, 5_000),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const left = Math.max(1, timeoutMs - (performance.now() - started));
    return await this.consumer.request(
      skill.trim().toLowerCase(),
      input,
      providers,
      { ...options, timeoutMs: left },
    );
  }

  /** Removes an own skill and tells the network. */
  deregister(skillName: string): Promise<boolean> {
    return this.discovery.deregister(skillName);
  }

  /** Finds skills: the DHT first for names and tags, then the gossip / query path. */
  query(spec: QuerySpec, options?: NodeQueryOptions): Promise<QueryResult[]> {
    return this.#dht.query(spec, options);
  }

  /** Signs and sends one message on a fresh connection; resolves the verified reply (null if none). */
  async sendMessage<T extends MessageType>(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    options: RequestOptions = {},
  ): Promise<Message | null> {
    const message = await signMessage(type, fields, this.identity);
    return await this.sendSigned(to, message as Message, options);
  }

  /** Sends an already signed message as it is; resolves the verified reply (null if none). */
  sendSigned(
    to: HostPort,
    message: Message,
    options: RequestOptions = {},
  ): Promise<Message | null> {
    return this.#messages.send(to, message, options);
  }

  /** Handles one received frame body (decode, verify, dispatch); never throws. */
  async handleBody(
    body: Uint8Array,
    remoteHost: string,
  ): Promise<Uint8Array | null | "close"> {
    const waiting = this.#gate.waiting;
    if (waiting !== null) await waiting;
    return await this.#messages.handle(body, remoteHost);
  }

  /** Tells peers our skills are gone (keeping them in our store for the next start). */
  withdraw(): Promise<void> {
    return this.discovery.withdrawAll();
  }

  /** Stops listening and maintenance, flushes and closes the database; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#gate.open(); // messages still waiting are answered (or refused) as it closes
    await this.#dht.close();
    await this.discovery.close();
    await this.#assets.close();
    await this.#listening?.close();
    this.#messages.close();
    await this.provider.close();
    this.#commits.flush();
    this.storage.close();
    this.db.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
