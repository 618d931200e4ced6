/** A node's assets: its sidecar, uploads and downloads, and fetching inputs from callers. */
import { assetRefHash, resolveAssetRefs } from "../assets/mod.ts";
import type { AssetStore } from "../assets/mod.ts";
import type { Identity } from "../crypto/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import { CertificateRepo } from "../store/mod.ts";
import type { Database, LedgerRepo } from "../store/mod.ts";
import {
  loadOrCreateCertificate,
  SidecarClient,
  SidecarServer,
} from "../sidecar/mod.ts";
import type {
  SidecarServerOptions,
  SidecarTarget,
  TransferOptions,
  UploadOutcome,
} from "../sidecar/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { JsonObject } from "../wire/mod.ts";

/** The asset sidecar of a node. */
export interface NodeSidecarOptions extends SidecarServerOptions {
  /**
   * Who may upload: every signer (default, as the original), `"callers"` (nodes in
   * the peer table or the ledger: peers that have dealt with us), or these node ids.
   * The node itself always may.
   */
  allowUploads?: "any" | "callers" | readonly string[];
}

/** A node whose sidecar is reachable: a `QueryResult` or a task's `provider` fits. */
export interface AssetPeer {
  /** The node id its sidecar certificate must match. */
  node_id: string;
  /** Its host. */
  host: string;
  /** Its announced sidecar port; 0 means it has none. */
  sidecar_port: number;
}

/** What {@linkcode NodeAssets} works with. */
export interface NodeAssetsDeps {
  identity: Identity;
  db: Database;
  /** The asset directory; null for a node without one. */
  assets: AssetStore | null;
  discovery: Discovery;
  ledger: LedgerRepo;
  logger: Logger;
}

/** How long a provider waits for an input asset from the caller's sidecar. */
const FETCH_TIMEOUT_MS = 300_000;

/** The asset side of a {@linkcode KnarrNode}. */
export class NodeAssets {
  #d: NodeAssetsDeps;
  #sidecar: SidecarServer | null = null;
  #client: SidecarClient | null = null;

  /** Takes the node's parts it needs. */
  constructor(deps: NodeAssetsDeps) {
    this.#d = deps;
  }

  /** The running sidecar, or null. */
  get sidecar(): SidecarServer | null {
    return this.#sidecar;
  }

  /** Starts the sidecar on `host` and returns its port. */
  async startSidecar(
    options: NodeSidecarOptions,
    host: string,
  ): Promise<number> {
    const assets = this.#d.assets;
    if (!assets) {
      throw new TypeError(
        "Cannot start the sidecar: the node has no asset directory",
      );
    }
    const { allowUploads = "any", ...serverOptions } = options;
    this.#sidecar = await SidecarServer.start({
      identity: this.#d.identity,
      certificate: await loadOrCreateCertificate(
        new CertificateRepo(this.#d.db),
        this.#d.identity,
      ),
      assets,
      logger: this.#d.logger.child("sidecar"),
      ...(allowUploads === "any"
        ? {}
        : { allowUpload: (who) => this.#mayUpload(allowUploads, who) }),
    }, { host, ...serverOptions });
    return this.#sidecar.port;
  }

  /** See {@linkcode KnarrNode.uploadAsset}. */
  async upload(
    peer: AssetPeer,
    source: Uint8Array | string,
    options: TransferOptions,
  ): Promise<UploadOutcome> {
    return await this.#client_().upload(
      targetOf(peer, "upload asset"),
      source,
      options,
    );
  }

  /** See {@linkcode KnarrNode.downloadAsset}. */
  async download(
    peer: AssetPeer,
    hash: string,
    path: string | undefined,
    options: TransferOptions,
  ): Promise<{ path: string; size: number }> {
    const target = targetOf(peer, "download asset");
    if (path !== undefined) {
      return {
        path,
        size: await this.#client_().download(target, hash, path, options),
      };
    }
    const assets = this.#d.assets;
    if (!assets) {
      throw new TypeError(
        "Cannot download asset: this node has no asset directory; pass a path",
      );
    }
    const local = await assets.get(hash);
    if (local !== null) {
      return { path: local, size: (await Deno.stat(local)).size };
    }
    const outcome = await this.#client_().fetchInto(
      target,
      hash,
      assets,
      options,
    );
    return { path: assets.pathOf(hash), size: outcome.size };
  }

  /** Fetches inputs' assets we lack from the caller's sidecar, when it announced one. */
  async fetchMissing(
    input: JsonObject,
    caller: { nodeId: string; host: string },
  ): Promise<JsonObject> {
    const assets = this.#d.assets;
    if (!assets) return input;
    let target: SidecarTarget | null | undefined;
    for (const value of Object.values(input)) {
      const hash = assetRefHash(value);
      if (hash === null || (await assets.has(hash))) continue;
      target ??= this.#sidecarOf(caller.nodeId, caller.host);
      const who = caller.nodeId.slice(0, 16);
      if (target === null) {
        this.#d.logger.debug(
          `Asset ${
            hash.slice(0, 12)
          } is not here and ${who} announced no sidecar`,
        );
        continue;
      }
      try {
        await this.#client_().fetchInto(target, hash, assets, {
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        });
      } catch (error) {
        this.#d.logger.warn(
          `Cannot fetch asset ${hash.slice(0, 12)} from ${who}: ${
            (error as Error).message
          }`,
        );
      }
    }
    return input;
  }

  /** In-process handlers get `knarr-asset://` inputs as paths in the asset directory. */
  async localPaths(input: JsonObject): Promise<JsonObject> {
    return this.#d.assets
      ? await resolveAssetRefs(input, this.#d.assets)
      : input;
  }

  /** Outputs naming assets outlive the TTL sweep until the caller downloads them. */
  retainOutputs(output: JsonObject): void {
    const assets = this.#d.assets;
    if (!assets) return;
    for (const value of Object.values(output)) {
      const hash = assetRefHash(value);
      if (hash !== null) assets.retain(hash);
    }
  }

  /** Stops the sidecar; idempotent. */
  async close(): Promise<void> {
    await this.#sidecar?.close();
  }

  #client_(): SidecarClient {
    return this.#client ??= new SidecarClient({ identity: this.#d.identity });
  }

  #mayUpload(
    rule: "callers" | readonly string[],
    who: { nodeId: string; publicKey: string },
  ): boolean {
    if (who.nodeId === this.#d.identity.nodeId) return true;
    if (rule !== "callers") return rule.includes(who.nodeId);
    return this.#d.discovery.peers.get(who.nodeId) !== undefined ||
      this.#d.ledger.get(who.publicKey) !== null;
  }

  /** Where a node's sidecar is, from its announcements; null when it announced none. */
  #sidecarOf(nodeId: string, fallbackHost: string): SidecarTarget | null {
    const peer = this.#d.discovery.peers.get(nodeId);
    const entry = this.#d.discovery.skills.list().find((e) =>
      e.providerNodeId === nodeId && e.sidecarPort > 0
    );
    const port = peer && peer.sidecarPort > 0
      ? peer.sidecarPort
      : entry?.sidecarPort ?? 0;
    if (port <= 0) return null;
    return { nodeId, host: entry?.host || peer?.host || fallbackHost, port };
  }
}

function targetOf(peer: AssetPeer, action: string): SidecarTarget {
  if (!(peer.sidecar_port > 0)) {
    throw new TypeError(
      `Cannot ${action}: node "${
        peer.node_id.slice(0, 16)
      }" announces no asset sidecar`,
    );
  }
  return { nodeId: peer.node_id, host: peer.host, port: peer.sidecar_port };
}
