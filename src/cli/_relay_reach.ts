/** `[network] relay` in `knarr serve`: reach the node through a keep relay, always or when unreachable. */
import { formatHostPort } from "../config/mod.ts";
import type { HostPort, KnarrConfig } from "../config/mod.ts";
import { checkReachable, RelayReach } from "../node/mod.ts";
import type { KnarrNode } from "../node/mod.ts";
import type { Logger } from "../util/mod.ts";

/** Options for {@linkcode ServeRelay.startIfUnreachable}. */
export interface UnreachableOptions {
  /** The peer the node joined through, asked to dial it back; null when it joined none. */
  via: HostPort | null;
  /** True when UPnP mapped the protocol port: the node counts as reachable. */
  upnpMapped: boolean;
  signal?: AbortSignal;
}

/** The relay reach of a serving node, if it uses one; disposing closes it. */
export class ServeRelay {
  #reach: RelayReach | null = null;
  #node: KnarrNode;
  #config: KnarrConfig;
  #log: Logger;
  #print: (line: string) => void;
  #onReach: (state: string, relayed: string | null) => void;

  /**
   * Takes the node, its configuration, a logger, where to print the relayed address and
   * what to tell when reachability is known (the cockpit shows it).
   */
  constructor(
    deps: {
      node: KnarrNode;
      log: Logger;
      print: (line: string) => void;
      onReach?: (state: string, relayed: string | null) => void;
    },
    config: KnarrConfig,
  ) {
    this.#node = deps.node;
    this.#log = deps.log;
    this.#print = deps.print;
    this.#onReach = deps.onReach ?? (() => {});
    this.#config = config;
  }

  /** With `relay_when = "always"`: announce the relayed address from the start. */
  startIfAlways(): void {
    if (this.#config.network.relayWhen === "always") this.#start();
  }

  /**
   * With `relay_when = "unreachable"`: asks the joined peer to dial us back and, when it
   * cannot (and UPnP mapped nothing), switches to the relayed address and re-joins and
   * re-announces with it.
   */
  async startIfUnreachable(options: UnreachableOptions): Promise<void> {
    const { network } = this.#config;
    if (network.relay === null || network.relayWhen !== "unreachable") return;
    if (options.upnpMapped || options.via === null) return;
    const reachable = await checkReachable(
      this.#node,
      options.via,
      options.signal ? { signal: options.signal } : {},
    );
    if (reachable !== false) {
      this.#onReach(
        reachable
          ? `reachable at ${formatHostPort(this.#node.address)} (checked by ${
            formatHostPort(options.via)
          })`
          : "unknown: the joined peer does not check",
        null,
      );
      this.#log.info(
        reachable
          ? `Reachable at ${
            formatHostPort(this.#node.address)
          }: not using relay`
          : `Cannot tell whether ${
            formatHostPort(this.#node.address)
          } is reachable (the peer does not check): not using relay`,
      );
      return;
    }
    this.#log.info(
      `${formatHostPort(options.via)} cannot reach ${
        formatHostPort(this.#node.address)
      }: using relay ${formatHostPort(network.relay)}`,
    );
    const reach = this.#start();
    try {
      await reach.ready({
        signal: options.signal
          ? AbortSignal.any([options.signal, AbortSignal.timeout(10_000)])
          : AbortSignal.timeout(10_000),
      });
    } catch {
      // RelayReach logs and keeps retrying; peers learn the address meanwhile anyway.
    }
    await this.#node.join(network.bootstrap, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
    await this.#node.discovery.announceAll();
  }

  /** Closes the relay connection, if any. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#reach?.close();
  }

  #start(): RelayReach {
    this.#reach ??= RelayReach.start(this.#node, {
      relay: this.#config.network.relay!,
      logger: this.#log.child("relay-reach"),
    });
    const relayed = formatHostPort(this.#reach.address);
    this.#print(`Relayed address: ${relayed}`);
    this.#onReach(
      `through relay ${formatHostPort(this.#config.network.relay!)} (${
        this.#config.network.relayWhen === "always"
          ? "relay_when = always"
          : "a peer could not dial this node"
      })`,
      relayed,
    );
    return this.#reach;
  }
}
