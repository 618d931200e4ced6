/** Turning the `[relay]` config section into relay server options. */
import type { RelaySection } from "../config/mod.ts";
import type { RelayServerOptions } from "./relay_server.ts";

/**
 * The server options of a `[relay]` section (seconds become milliseconds).
 *
 * @example
 * ```ts
 * const config = await loadConfig("knarr.toml");
 * if (config.relay.enabled) await RelayServer.start({}, relayOptionsFromConfig(config.relay));
 * ```
 */
export function relayOptionsFromConfig(
  section: RelaySection,
): RelayServerOptions {
  return {
    host: section.host,
    port: section.port,
    version: section.version,
    heartbeatIntervalMs: section.heartbeatInterval * 1000,
    maxConnections: section.maxConnections,
    maxConnectionsPerIp: section.maxConnectionsPerIp,
    rateLimit: section.rateLimit,
    rateBurst: section.rateBurst,
    maxQueue: section.maxQueue,
    idleTimeoutMs: section.idleTimeout * 1000,
    writeTimeoutMs: section.writeTimeout * 1000,
    bindIdentities: section.bindIdentities,
    takeover: section.takeover,
    signReplies: section.signReplies,
    maxQueueBytes: section.maxQueueBytes,
    maxQueueBytesTotal: section.maxQueueBytesTotal,
  };
}
