/** KnarrNode: the composition root of a node and the public programmatic API. */
import type { AssetStore } from "../assets/mod.ts";
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
  GroupCommit,
  LedgerRepo,
  loadOrCreateIdentity,
  PeerRepo,
  SkillRepo,
  TaskRepo,
} from "../store/mod.ts";
import type {
  SidecarServer,
  TransferOptions,
  UploadOutcome,
} from "../sidecar/mod.ts";
import { TaskConsumer, TaskProvider } from "../tasks/mod.ts";
import type {
  ExecutableSkill,
  RunContext,
  RunOutcome,
  SkillExecutor,
  TaskOutcome,
  TaskPolicy,
  TaskRequestOptions,
} from "../tasks/mod.ts";
import type { Visibility } from "../config/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  isJsonObject,
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
import { NodeAssets } from "./node_assets.ts";
import type { AssetPeer, NodeSidecarOptions } from "./node_assets.ts";
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
  /** The node's asset directory (task inputs, `ctx.storeAsset`, the sidecar). Default: none. */
  assets?: AssetStore;
  /** Runs the asset sidecar over `assets` on `start()`. Default: no sidecar. */
  sidecar?: NodeSidecarOptions;
  /** Transport; default real TCP. */
  transport?: Transport;
  /** Discovery timings and limits. */
  discovery?: DiscoveryOptions;
  /** Inbound connection limits (TCP transport). */
  maxConnections?: number;
  /** Inbound connections allowed per remote address (TCP transport). Default 64. */
  maxConnectionsPerAddress?: number;
  /** Milliseconds an inbound connection may stay idle (TCP transport). Default 120000. */
  idleTimeoutMs?: number;
  /** Unix-seconds clock for discovery and tasks. Default: the system clock. */
  clock?: Clock;
  /** Where the node logs. Default: silent. */
  logger?: Logger;
  /** Use this identity instead of the database's. */
  identity?: Identity;
  /** Credit and capacity policy (defaults: the config reference). */
  policy?: Partial<TaskPolicy>;
  /** Runs configured skill files (the Worker sandbox); in-process handlers need none. */
  runner?: SkillRunner;
}

/** Runs skills that are not in-process handlers (the Worker sandbox implements it). */
export interface SkillRunner {
  /** True when the runner has a skill of this name loaded. */
  has(name: string): boolean;
  /** Runs a skill; handler faults resolve as an outcome, not a throw. */
  run(name: string, input: JsonObject, ctx: RunContext): Promise<RunOutcome>;
  /** Runs of a skill at once (a sandboxed skill's Worker pool size); default: the policy's. */
  slots?(name: string): number | undefined;
}

/** An in-process handler: not sandboxed, runs with the node's own permissions. */
export type InProcessHandler = (
  input: JsonObject,
  ctx: { callerNodeId: string; jobId: string; signal: AbortSignal },
) => Promise<JsonObject> | JsonObject;

/** How an own skill may be called. */
export interface SkillAccess {
  /** Who may call the skill. Default "public". */
  visibility?: Visibility;
  /** Node ids allowed to call a whitelist skill. */
  allowedNodes?: readonly string[];
  /** Answer TASK_STATUS accepted at once and push the result when done. */
  slow?: boolean;
}

/** Options for {@linkcode KnarrNode.start}. */
export interface StartOptions {
  /** Run heartbeats, expiry and re-announce (default true); tests turn it off. */
  maintenance?: boolean;
  /** Messages received before this settles wait for it (the node's skills are loading). */
  ready?: Promise<unknown>;
}

/** Default policy: the config reference's defaults. */
export const DEFAULT_POLICY: TaskPolicy = {
  initialCredit: 3.0,
  minBalance: -10.0,
  titForTat: false,
  taskSlots: 64,
  maxQueueDepth: 100,
  maxTaskTimeout: 3600,
};

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
  #handlers = new Map<string, InProcessHandler>();
  #access = new Map<string, SkillAccess>();
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
  #assets: NodeAssets;
  #commits: GroupCommit;
  #ready: Promise<void> | null = null;
  #openReady = () => {};
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
      sidecarPort: 0,
    };
    const messenger: Messenger = {
      request: (to, type, fields, opts) =>
        this.sendMessage(to, type, fields, opts),
      forward: (to, message, opts) => this.sendSigned(to, message, opts),
    };
    const clock = options.clock ?? SYSTEM_CLOCK;
    this.ledger = new LedgerRepo(db);
    this.tasks = new TaskRepo(db);
    this.#commits = new GroupCommit(db);
    const policy = { ...DEFAULT_POLICY, ...options.policy };
    const send = <T extends "TASK_REQUEST" | "TASK_RESULT">(
      to: HostPort,
      type: T,
      fields: MessageFields<T>,
      opts: RequestOptions,
    ) => this.sendMessage(to, type, fields, opts);
    this.provider = new TaskProvider({
      selfNodeId: identity.nodeId,
      executor: this.#executor(),
      ledger: this.ledger,
      tasks: this.tasks,
      clock,
      send,
      resolveAssets: (input, caller) =>
        this.#assets.fetchMissing(input, caller),
      commit: (write, options) => this.#commits.write(write, options),
      logger: this.#log.child("tasks"),
    }, policy);
    this.consumer = new TaskConsumer({
      self: () => this.#self,
      send,
      nodeIdOf: (pk) => this.discovery.nodeIdOf(pk),
      ledger: this.ledger,
      tasks: this.tasks,
      clock,
      logger: this.#log.child("tasks"),
    }, policy);
    this.discovery = new Discovery({
      self: this.#self,
      signer: identity,
      messenger,
      clock,
      balanceOf: (nodeId) => {
        const pk = this.discovery.peers.get(nodeId)?.publicKey;
        return pk ? (this.ledger.get(pk)?.balance ?? 0) : 0;
      },
      load: () => this.provider.load,
      peers: new PeerTable(identity.nodeId, new PeerRepo(db)),
      skills: new SkillTable(new SkillRepo(db)),
      demand: new DemandRepo(db),
      logger: this.#log.child("discovery"),
    }, options.discovery);
    this.#assets = new NodeAssets({
      identity,
      db,
      assets: options.assets ?? null,
      discovery: this.discovery,
      ledger: this.ledger,
      logger: this.#log,
    });
  }

  /** Opens the store, loads or creates the identity; call `start()` to listen. */
  static async create(options: KnarrNodeOptions = {}): Promise<KnarrNode> {
    if (options.sidecar && !options.assets) {
      throw new TypeError(
        "Cannot create node: a sidecar needs an asset directory (pass assets: new AssetStore(dir))",
      );
    }
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
  ): Promise<KnarrNode> {
    return KnarrNode.create({
      storage: config.node.storage,
      host: config.node.host,
      port: config.node.port,
      advertiseHost: config.node.advertiseHost,
      ...(config.node.sidecarPort !== null && options.assets
        ? {
          sidecar: {
            host: config.node.host,
            port: config.node.sidecarPort,
            allowUploads: config.sidecar.allowUploads,
          },
        }
        : {}),
      ...options,
      discovery: { fanout: config.network.gossipFanout, ...options.discovery },
      policy: {
        initialCredit: config.policy.initialCredit,
        minBalance: config.policy.minBalance,
        titForTat: config.policy.titForTat,
        maxQueueDepth: config.node.maxQueueDepth,
        maxTaskTimeout: config.node.maxTaskTimeout,
        ...options.policy,
      },
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

  /**
   * Binds the listener, settles the advertised address and starts maintenance. With
   * `ready`, messages that arrive before it settles wait for it: a node that still loads
   * its skills answers once they are there, not `UNKNOWN_SKILL` meanwhile.
   */
  async start(options: StartOptions = {}): Promise<HostPort> {
    if (this.#listening) return this.address;
    if (options.ready) {
      let open!: () => void;
      const ready = new Promise<void>((resolve) => open = resolve);
      this.#ready = ready;
      this.#openReady = open;
      options.ready.then(open, open);
      void ready.then(() => {
        if (this.#ready === ready) this.#ready = null;
      });
    }
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
    this.#access.set(String(built.name), access);
    await this.discovery.announce(built, access.visibility ?? "public");
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
    this.#handlers.set(name.trim().toLowerCase(), handler);
  }

  /** Runs one of our own skills directly: no network, no policy, private skills too. */
  async callLocal(
    name: string,
    input: JsonObject,
    options: { timeoutMs?: number } = {},
  ): Promise<JsonObject> {
    const skill = name.trim().toLowerCase();
    const outcome = await this.#run(skill, input, {
      callerNodeId: this.nodeId,
      jobId: crypto.randomUUID(),
      timeoutMs: options.timeoutMs ?? 30_000,
    });
    if (outcome.status === "ok") return outcome.output;
    if (outcome.status === "timeout") {
      throw new Error(`Skill "${skill}" timed out`);
    }
    if (outcome.status === "invalid_input") {
      throw new TypeError(
        `Invalid input for skill "${skill}": ${outcome.message}`,
      );
    }
    throw new Error(`Skill "${skill}" failed: ${outcome.detail}`);
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

  #executor(): SkillExecutor {
    return {
      get: (name) => this.#executable(name),
      run: (name, input, ctx) => this.#run(name, input, ctx),
    };
  }

  #executable(name: string): ExecutableSkill | undefined {
    const entry = this.discovery.skills.get(name, this.nodeId);
    if (!entry || !entry.isOwn) return undefined;
    if (!this.#handlers.has(name) && !this.#options.runner?.has(name)) {
      return undefined;
    }
    const access = this.#access.get(name) ?? {};
    const slots = this.#handlers.has(name)
      ? undefined
      : this.#options.runner?.slots?.(name);
    return {
      name,
      sheet: entry.sheet,
      visibility: (access.visibility ?? entry.visibility) as Visibility,
      allowedNodes: access.allowedNodes ?? [],
      slow: access.slow ?? false,
      ...(slots !== undefined ? { slots } : {}),
    };
  }

  async #run(
    name: string,
    input: JsonObject,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const outcome = await this.#runHandler(name, input, ctx);
    if (outcome.status === "ok") this.#assets.retainOutputs(outcome.output);
    return outcome;
  }

  async #runHandler(
    name: string,
    input: JsonObject,
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const handler = this.#handlers.get(name);
    if (!handler) {
      // The sandbox stages asset references itself, readable by that Worker only.
      if (this.#options.runner?.has(name)) {
        return await this.#options.runner.run(name, input, ctx);
      }
      return { status: "error", detail: `No handler for skill '${name}'` };
    }
    input = await this.#assets.localPaths(input);
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const output = await Promise.race([
        Promise.resolve().then(() =>
          handler(input, {
            callerNodeId: ctx.callerNodeId,
            jobId: ctx.jobId,
            signal: controller.signal,
          })
        ),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), ctx.timeoutMs);
        }),
      ]);
      if (output === "timeout") {
        controller.abort(new Error("Task timed out"));
        return { status: "timeout" };
      }
      if (!isJsonObject(output)) {
        return { status: "error", detail: "handler returned a non-object" };
      }
      return { status: "ok", output };
    } catch (error) {
      return {
        status: "error",
        detail: (error as Error)?.stack ?? String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Removes an own skill and tells the network. */
  deregister(skillName: string): Promise<boolean> {
    return this.discovery.deregister(skillName);
  }

  /** Finds skills on the network (and locally). */
  query(spec: QuerySpec, options?: QueryOptions): Promise<QueryResult[]> {
    return this.discovery.query(spec, options);
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
  async sendSigned(
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
    if (this.#ready !== null) await this.#ready;
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
          reply = await this.provider.handleRequest(message, senderId);
          break;
        case "TASK_RESULT":
          reply = this.consumer.onPushedResult(message, senderId);
          break;
        case "TASK_STATUS":
          reply = null;
          break;
        default:
          reply = this.discovery.handle(message, remoteHost);
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
  withdraw(): Promise<void> {
    return this.discovery.withdrawAll();
  }

  /** Stops listening and maintenance, flushes and closes the database; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#openReady(); // messages still waiting are answered (or refused) as it closes
    await this.discovery.close();
    await this.#assets.close();
    await this.#listening?.close();
    await this.provider.close();
    this.#commits.flush();
    this.db.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
