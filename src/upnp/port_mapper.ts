/** Keeps TCP ports mapped on the internet gateway: map at start, renew, delete on dispose. */
import { sleep } from "../util/mod.ts";
import type { Logger } from "../util/mod.ts";
import { UpnpActionError } from "./errors.ts";
import { UpnpGateway } from "./gateway.ts";
import type { DiscoverOptions, GatewayDeps, PortMapping } from "./gateway.ts";

/** Seconds between renewals of the mappings. */
export const UPNP_RENEW_INTERVAL_MS = 300_000;
/** Lease asked for each mapping: two renewals, so a crashed node's mappings expire. */
export const UPNP_LEASE_SECONDS = 600;
/** Deadline of the DeletePortMapping calls made on dispose. */
export const UPNP_DELETE_TIMEOUT_MS = 2_000;

/** Collaborators of {@linkcode UpnpPortMapper}. */
export interface PortMapperDeps extends GatewayDeps {
  /** Where renewal failures are reported (one warning each). */
  logger?: Logger;
  /** Waits between renewals; tests pass a hand-driven one. Default: util's `sleep`. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A gateway found already (skips discovery). */
  gateway?: UpnpGateway;
  /** Milliseconds on a monotonic scale, for the timings. Default: `performance.now()`. */
  now?: () => number;
}

/** How long starting took, in ms. */
export interface PortMapperTimings {
  /** SSDP search, description and local address (0 with a given gateway). */
  discoveryMs: number;
  /** GetExternalIPAddress and every AddPortMapping. */
  mappingMs: number;
}

/** One port to keep mapped (TCP, same port inside and out). */
export interface MappedPort {
  /** The local and external port. */
  port: number;
  /** Description shown by the gateway, e.g. "knarr protocol 9000". */
  description: string;
}

/** Options for {@linkcode UpnpPortMapper.start}. */
export interface PortMapperOptions extends DiscoverOptions {
  /** Ports to map, in order. */
  ports: readonly MappedPort[];
  /** Milliseconds between renewals. Default 300000. */
  renewIntervalMs?: number;
  /** Lease of each mapping in seconds. Default 600. */
  leaseSeconds?: number;
}

/**
 * The mappings of one node on its gateway.
 *
 * @example
 * ```ts
 * await using upnp = await UpnpPortMapper.start({}, {
 *   ports: [{ port: 9000, description: "knarr protocol 9000" }],
 * });
 * console.log(upnp.externalAddress);
 * ```
 */
export class UpnpPortMapper {
  /** The gateway holding the mappings. */
  readonly gateway: UpnpGateway;
  /** The gateway's external IPv4 address. */
  readonly externalAddress: string;
  /** The mapped ports. */
  readonly ports: readonly MappedPort[];
  /** How long discovery and mapping took. */
  readonly timings: PortMapperTimings = { discoveryMs: 0, mappingMs: 0 };
  #leaseSeconds: number;
  #logger: Logger | null;
  #stop = new AbortController();
  #loop: Promise<void> = Promise.resolve();
  #disposed: Promise<void> | null = null;

  private constructor(
    gateway: UpnpGateway,
    externalAddress: string,
    ports: readonly MappedPort[],
    leaseSeconds: number,
    logger: Logger | null,
  ) {
    this.gateway = gateway;
    this.externalAddress = externalAddress;
    this.ports = ports;
    this.#leaseSeconds = leaseSeconds;
    this.#logger = logger;
  }

  /**
   * Discovers the gateway, reads its external address and maps every port, then renews them
   * every `renewIntervalMs`. All or nothing: on any failure the mappings made are removed and
   * it rejects with one-line Error.
   */
  static async start(
    deps: PortMapperDeps,
    options: PortMapperOptions,
  ): Promise<UpnpPortMapper> {
    const now = deps.now ?? (() => performance.now());
    const began = now();
    const gateway = deps.gateway ?? await UpnpGateway.discover(deps, options);
    const discovered = now();
    const signal = options.signal ? { signal: options.signal } : {};
    const externalAddress = await gateway.externalAddress(signal);
    const mapper = new UpnpPortMapper(
      gateway,
      externalAddress,
      [...options.ports],
      options.leaseSeconds ?? UPNP_LEASE_SECONDS,
      deps.logger ?? null,
    );
    const done: MappedPort[] = [];
    try {
      for (const port of options.ports) {
        await mapper.#map(port, options.signal);
        done.push(port);
      }
    } catch (error) {
      await mapper.#unmap(done);
      throw error;
    }
    mapper.timings.discoveryMs = discovered - began;
    mapper.timings.mappingMs = now() - discovered;
    const wait = deps.wait ?? sleep;
    const every = options.renewIntervalMs ?? UPNP_RENEW_INTERVAL_MS;
    mapper.#loop = mapper.#renewEvery(every, wait);
    return mapper;
  }

  /** Maps every port again (what the timer does every interval). */
  async renew(options: { signal?: AbortSignal } = {}): Promise<void> {
    for (const port of this.ports) await this.#map(port, options.signal);
  }

  /** Stops renewing and deletes the mappings (each within 2 s); idempotent. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#disposed ??= (async () => {
      this.#stop.abort();
      await this.#loop;
      await this.#unmap(this.ports);
    })();
    return this.#disposed;
  }

  async #renewEvery(
    ms: number,
    wait: (ms: number, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      await wait(ms, stop);
      if (stop.aborted) return;
      try {
        await this.renew({ signal: stop });
      } catch (error) {
        if (stop.aborted) return;
        this.#logger?.warn(
          `UPnP: cannot renew the mappings on ${this.gateway.host}: ${
            (error as Error).message
          }`,
        );
      }
    }
  }

  async #map(port: MappedPort, signal?: AbortSignal): Promise<void> {
    const mapping: PortMapping = {
      externalPort: port.port,
      internalPort: port.port,
      protocol: "TCP",
      description: port.description,
      leaseSeconds: this.#leaseSeconds,
    };
    const options = signal ? { signal } : {};
    try {
      await this.gateway.addPortMapping(mapping, options);
    } catch (error) {
      // 725 OnlyPermanentLeasesSupported: such gateways take lease 0 only.
      if (!(error instanceof UpnpActionError) || error.code !== 725) {
        throw error;
      }
      this.#leaseSeconds = 0;
      await this.gateway.addPortMapping(
        { ...mapping, leaseSeconds: 0 },
        options,
      );
    }
  }

  async #unmap(ports: readonly MappedPort[]): Promise<void> {
    for (const port of ports) {
      try {
        await this.gateway.deletePortMapping(port.port, "TCP", {
          signal: AbortSignal.timeout(UPNP_DELETE_TIMEOUT_MS),
        });
      } catch (error) {
        this.#logger?.warn(
          `UPnP: cannot delete the mapping of port ${port.port} on ${this.gateway.host}: ${
            (error as Error).message
          }`,
        );
      }
    }
  }
}
