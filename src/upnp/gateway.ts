/** An internet gateway found by SSDP, and the WAN connection actions knarr needs from it. */
import { datagramExchange, httpText, localAddressToward } from "../net/mod.ts";
import type { Datagram, DatagramExchangeOptions } from "../net/mod.ts";
import { findWanService, MAX_DESCRIPTION_BYTES } from "./device_description.ts";
import {
  buildSoapRequest,
  MAX_SOAP_RESPONSE_BYTES,
  parseSoapResponse,
} from "./soap.ts";
import {
  buildSearchRequest,
  IGD_SEARCH_TARGET,
  parseSearchResponse,
  SSDP_ADDRESS,
} from "./ssdp.ts";

/** Distinct description URLs fetched during one discovery, at most. */
export const MAX_DESCRIPTIONS_TRIED = 4;

/** The I/O a gateway client uses; tests replace any of it. */
export interface GatewayDeps {
  /** Sends one datagram and yields the replies. Default: net's `datagramExchange`. */
  exchange?: (
    payload: Uint8Array,
    target: { host: string; port: number },
    options: DatagramExchangeOptions,
  ) => AsyncIterable<Datagram>;
  /** HTTP client. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** The local address that reaches host:port. Default: net's `localAddressToward`. */
  localAddressToward?: (
    host: string,
    port: number,
    options: { timeoutMs?: number; signal?: AbortSignal },
  ) => Promise<string>;
}

/** Options for {@linkcode UpnpGateway.discover}. */
export interface DiscoverOptions {
  /** How long to wait for SSDP answers, in ms. Default 2000. */
  searchTimeoutMs?: number;
  /** Deadline of each HTTP request to the gateway, in ms. Default 3000. */
  requestTimeoutMs?: number;
  /** Where the M-SEARCH goes. Default 239.255.255.250:1900. */
  searchAddress?: { host: string; port: number };
  /** Local address the search is sent from. Default "0.0.0.0". */
  localHost?: string;
  /** Aborts discovery. */
  signal?: AbortSignal;
}

/** One port mapping request. */
export interface PortMapping {
  /** Port opened on the gateway's external address. */
  externalPort: number;
  /** Port on this host it forwards to. */
  internalPort: number;
  /** "TCP" or "UDP". */
  protocol: "TCP" | "UDP";
  /** Text shown in the gateway's mapping list. */
  description: string;
  /** Seconds the mapping lasts unless renewed; 0 = until deleted. */
  leaseSeconds: number;
}

/** Deadline and cancellation of one gateway action. */
export interface ActionOptions {
  /** Aborts the action. */
  signal?: AbortSignal;
}

/** A discovered gateway's WAN connection service. */
export class UpnpGateway {
  /** Its device description URL. */
  readonly location: string;
  /** The WANIPConnection or WANPPPConnection service type. */
  readonly serviceType: string;
  /** Where actions are posted. */
  readonly controlUrl: string;
  /** This host's address as the gateway sees it (the mappings' internal client). */
  readonly localAddress: string;
  #fetch: typeof fetch;
  #timeoutMs: number;

  /** Wraps an already-described service; use {@linkcode UpnpGateway.discover} to find one. */
  constructor(
    fields: Pick<
      UpnpGateway,
      "location" | "serviceType" | "controlUrl" | "localAddress"
    >,
    fetcher: typeof fetch,
    timeoutMs: number,
  ) {
    this.location = fields.location;
    this.serviceType = fields.serviceType;
    this.controlUrl = fields.controlUrl;
    this.localAddress = fields.localAddress;
    this.#fetch = fetcher;
    this.#timeoutMs = timeoutMs;
  }

  /** The gateway's host (from its description URL). */
  get host(): string {
    return new URL(this.location).hostname;
  }

  /**
   * Finds the first gateway that answers an M-SEARCH and describes a WAN connection
   * service. Rejects with a one-line Error when none does within the deadlines.
   */
  static async discover(
    deps: GatewayDeps = {},
    options: DiscoverOptions = {},
  ): Promise<UpnpGateway> {
    const exchange = deps.exchange ?? datagramExchange;
    const fetcher = deps.fetch ?? globalThis.fetch.bind(globalThis);
    const toward = deps.localAddressToward ?? localAddressToward;
    const searchMs = options.searchTimeoutMs ?? 2_000;
    const requestMs = options.requestTimeoutMs ?? 3_000;
    const request = new TextEncoder().encode(
      buildSearchRequest(IGD_SEARCH_TARGET, Math.ceil(searchMs / 1000)),
    );
    const problems: string[] = [];
    // However many slow or bogus answers arrive, discovery as a whole ends in time.
    const overall = timeout(searchMs + 2 * requestMs, options.signal);
    const replies = exchange(request, options.searchAddress ?? SSDP_ADDRESS, {
      timeoutMs: searchMs,
      signal: overall,
      ...(options.localHost ? { localHost: options.localHost } : {}),
    });
    const tried = new Set<string>();
    for await (const reply of replies) {
      const answer = parseSearchResponse(new TextDecoder().decode(reply.data));
      if (!answer || tried.has(answer.location)) continue;
      if (tried.size >= MAX_DESCRIPTIONS_TRIED) break;
      tried.add(answer.location);
      // A LAN host must not send us to a third machine (or to our own loopback).
      if (new URL(answer.location).hostname !== reply.host) {
        problems.push(`${reply.host} answered with a location on another host`);
        continue;
      }
      try {
        const xml = await httpText(answer.location, { method: "GET" }, {
          fetch: fetcher,
          maxBytes: MAX_DESCRIPTION_BYTES,
          signal: timeout(requestMs, overall),
        });
        const service = findWanService(xml, answer.location);
        if (!service) {
          problems.push(`${answer.location} has no WAN connection service`);
          continue;
        }
        const control = new URL(service.controlUrl);
        const localAddress = await toward(
          control.hostname,
          Number(control.port || 80),
          { timeoutMs: requestMs, signal: overall },
        );
        return new UpnpGateway(
          { location: answer.location, localAddress, ...service },
          fetcher,
          requestMs,
        );
      } catch (error) {
        problems.push(`${answer.location}: ${(error as Error).message}`);
      }
    }
    options.signal?.throwIfAborted();
    throw new Error(
      `Cannot find a UPnP gateway: ${
        problems[0] ?? `no answer to M-SEARCH within ${searchMs} ms`
      }`,
    );
  }

  /** The gateway's external IPv4 address (GetExternalIPAddress). */
  async externalAddress(options: ActionOptions = {}): Promise<string> {
    const out = await this.#call(
      "GetExternalIPAddress",
      [],
      ["NewExternalIPAddress"],
      options,
    );
    const ip = out.NewExternalIPAddress ?? "";
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
      throw new SyntaxError(
        `Cannot read the external address from ${this.host}: got "${
          ip.slice(0, 64)
        }"`,
      );
    }
    return ip;
  }

  /** Adds (or refreshes) a port mapping to this host (AddPortMapping). */
  async addPortMapping(
    mapping: PortMapping,
    options: ActionOptions = {},
  ): Promise<void> {
    await this.#call(
      "AddPortMapping",
      [
        ["NewRemoteHost", ""],
        ["NewExternalPort", mapping.externalPort],
        ["NewProtocol", mapping.protocol],
        ["NewInternalPort", mapping.internalPort],
        ["NewInternalClient", this.localAddress],
        ["NewEnabled", 1],
        ["NewPortMappingDescription", mapping.description],
        ["NewLeaseDuration", mapping.leaseSeconds],
      ],
      [],
      options,
    );
  }

  /** Removes a port mapping (DeletePortMapping). */
  async deletePortMapping(
    externalPort: number,
    protocol: "TCP" | "UDP",
    options: ActionOptions = {},
  ): Promise<void> {
    await this.#call(
      "DeletePortMapping",
      [
        ["NewRemoteHost", ""],
        ["NewExternalPort", externalPort],
        ["NewProtocol", protocol],
      ],
      [],
      options,
    );
  }

  async #call(
    action: string,
    args: readonly (readonly [string, string | number])[],
    names: readonly string[],
    options: ActionOptions,
  ): Promise<Record<string, string>> {
    const request = buildSoapRequest(this.serviceType, action, args);
    let xml: string;
    try {
      // A fault comes with status 500: its body is read like any answer.
      xml = await httpText(this.controlUrl, {
        method: "POST",
        headers: request.headers,
        body: request.body,
      }, {
        fetch: this.#fetch,
        maxBytes: MAX_SOAP_RESPONSE_BYTES,
        signal: timeout(this.#timeoutMs, options.signal),
        statuses: [200, 500],
      });
    } catch (error) {
      throw new Error(
        `Cannot call ${action} on ${this.host}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return parseSoapResponse(xml, action, names);
  }
}

function timeout(ms: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([deadline, signal]) : deadline;
}
