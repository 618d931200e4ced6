/** Relayed addresses: how a node reachable only through a keep relay is announced. */
import type { HostPort } from "../config/mod.ts";

/** The first label of a relayed host: `relay.<node_id>.<relay host>`. */
export const RELAYED_HOST_PREFIX = "relay.";

/** Largest knarr message body sent through a relay (the keep frame limit is 65,536 bytes). */
export const MAX_RELAYED_BODY_BYTES = 60_000;

const NODE_ID_RE = /^[0-9a-f]{64}$/;
const MAX_HOST_CHARS = 256;

/** Where a relayed address points: the relay, and the node registered there. */
export interface RelayedAddress {
  /** The relay's `host:port`. */
  relay: HostPort;
  /** The node's id; it registers the keep identity `knarr:<node_id>`. */
  nodeId: string;
}

/**
 * The address a node announces when reached through `relay`: host
 * `relay.<node_id>.<relay host>`, port the relay's. Nodes without relay support try to
 * resolve that host and fail to connect, as for any unreachable peer.
 *
 * @example
 * ```ts
 * relayedAddress("ab".repeat(32), { host: "203.0.113.7", port: 9009 });
 * // { host: "relay.abab…ab.203.0.113.7", port: 9009 }
 * ```
 */
export function relayedAddress(nodeId: string, relay: HostPort): HostPort {
  if (!NODE_ID_RE.test(nodeId)) {
    throw new TypeError(
      `Cannot make a relayed address: "${nodeId}" is not a 64-digit hex node id`,
    );
  }
  const host = `${RELAYED_HOST_PREFIX}${nodeId}.${relay.host}`;
  // Peers refuse hosts longer than this in JOIN, SYNC and QUERY_RESPONSE.
  if (host.length > MAX_HOST_CHARS) {
    throw new RangeError(
      `Cannot make a relayed address: relay host "${relay.host}" is longer than ${
        MAX_HOST_CHARS - host.length + relay.host.length
      } characters`,
    );
  }
  return { host, port: relay.port };
}

/** The relay and node of a relayed address, or null for a plain one. */
export function parseRelayedAddress(to: HostPort): RelayedAddress | null {
  const { host, port } = to;
  if (!host.startsWith(RELAYED_HOST_PREFIX)) return null;
  const start = RELAYED_HOST_PREFIX.length;
  const nodeId = host.slice(start, start + 64);
  const relayHost = host.slice(start + 65);
  if (
    !NODE_ID_RE.test(nodeId) || host[start + 64] !== "." || relayHost === "" ||
    port < 1 || port > 65535
  ) {
    return null;
  }
  return { relay: { host: relayHost, port }, nodeId };
}

/** The keep identity a relayed node registers: `knarr:<node_id>`. */
export function relayIdentity(nodeId: string): string {
  return `knarr:${nodeId}`;
}
