/** `knarr serve`'s UPnP step: map the ports on the gateway and report the external address. */
import type { KnarrConfig } from "../config/mod.ts";
import { UpnpPortMapper } from "../upnp/mod.ts";
import type { MappedPort } from "../upnp/mod.ts";
import type { Logger } from "../util/mod.ts";

/** Ports `knarr serve` listens on. */
export interface ServePorts {
  /** The protocol port. */
  protocol: number;
  /** The sidecar port, or null without a sidecar. */
  sidecar: number | null;
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === "::1" || host === "localhost";
}

/**
 * Maps the ports when `[network] upnp` is on. Any failure is one warning line and null:
 * UPnP never stops the node.
 */
export async function startUpnp(
  config: KnarrConfig,
  ports: ServePorts,
  logger: Logger,
  options: { signal?: AbortSignal } = {},
): Promise<UpnpPortMapper | null> {
  if (!config.network.upnp) return null;
  if (isLoopback(config.node.host)) {
    logger.warn(
      `UPnP: not mapping ports: listening on "${config.node.host}" only`,
    );
    return null;
  }
  const mapped: MappedPort[] = [
    { port: ports.protocol, description: `knarr protocol ${ports.protocol}` },
  ];
  if (ports.sidecar !== null) {
    mapped.push({
      port: ports.sidecar,
      description: `knarr sidecar ${ports.sidecar}`,
    });
  }
  try {
    return await UpnpPortMapper.start({ logger }, {
      ports: mapped,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // Stopped while mapping: shutting down is not a UPnP failure.
    if (options.signal?.aborted) return null;
    logger.warn(
      `UPnP: ports not mapped, continuing without: ${
        (error as Error).message.split("\n")[0]
      }`,
    );
    return null;
  }
}

/** The line serve prints once the ports are mapped. */
export function upnpSummary(mapper: UpnpPortMapper): string {
  const ports = mapper.ports.map((p) => p.port).join(" and ");
  const { discoveryMs, mappingMs } = mapper.timings;
  return `UPnP: mapped ${ports} on ${mapper.gateway.host}, external ${mapper.externalAddress} ` +
    `(discovery ${Math.round(discoveryMs)} ms, mapping ${
      Math.round(mappingMs)
    } ms)`;
}
