/** `[relay]`: the keep relay this node may run. */
import { resolve } from "node:path";
import { show, TableReader } from "./_check.ts";
import { DEFAULTS } from "./schema.ts";
import type { RelaySection } from "./schema.ts";

const RELAY_KEYS = [
  "enabled",
  "host",
  "port",
  "version",
  "heartbeat_interval",
  "max_connections",
  "max_connections_per_ip",
  "rate_limit",
  "rate_burst",
  "max_queue",
  "idle_timeout",
  "write_timeout",
  "bind_identities",
  "takeover",
  "sign_replies",
  "key_file",
  "max_queue_bytes",
  "max_queue_bytes_total",
] as const;

/** Reads the `[relay]` table; `key_file` resolves against the project `dir`. */
export function readRelay(
  file: string,
  dir: string,
  table: unknown,
): RelaySection {
  const r = new TableReader(file, "relay", table, RELAY_KEYS);
  const d = DEFAULTS.relay;
  return {
    enabled: r.bool("enabled", d.enabled),
    host: r.string("host", d.host, { min: 1, max: 256 }),
    port: r.int("port", d.port, 0, 65535),
    version: r.string("version", d.version, { min: 1, max: 64 }),
    heartbeatInterval: r.number(
      "heartbeat_interval",
      d.heartbeatInterval,
      0.01,
      86_400,
    ),
    maxConnections: r.int("max_connections", d.maxConnections, 1, 1_000_000),
    maxConnectionsPerIp: r.int(
      "max_connections_per_ip",
      d.maxConnectionsPerIp,
      1,
      1_000_000,
    ),
    rateLimit: r.number("rate_limit", d.rateLimit, 0.001, 1e9),
    rateBurst: r.int("rate_burst", d.rateBurst, 1, 1e9),
    maxQueue: r.int("max_queue", d.maxQueue, 1, 1e7),
    idleTimeout: r.number("idle_timeout", d.idleTimeout, 0.01, 86_400),
    writeTimeout: r.number("write_timeout", d.writeTimeout, 0.01, 86_400),
    bindIdentities: r.bool("bind_identities", d.bindIdentities),
    takeover: readTakeover(r),
    signReplies: r.bool("sign_replies", d.signReplies),
    keyFile: r.raw("key_file") === undefined
      ? null
      : resolve(dir, r.string("key_file", "", { min: 1 })),
    maxQueueBytes: r.int(
      "max_queue_bytes",
      d.maxQueueBytes,
      1024,
      1_073_741_824,
    ),
    maxQueueBytesTotal: r.int(
      "max_queue_bytes_total",
      d.maxQueueBytesTotal,
      1024,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

/** `[relay] takeover`: "same_key" or "any". */
function readTakeover(r: TableReader): "same_key" | "any" {
  const value = r.string("takeover", DEFAULTS.relay.takeover);
  if (value !== "same_key" && value !== "any") {
    return r.fail(
      "takeover",
      `must be "same_key" or "any" (got ${show(value)})`,
    );
  }
  return value;
}
