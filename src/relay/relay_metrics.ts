/** Counters behind `discover:metrics` (`discover:stats` stays exactly as the protocol defines it). */

/** Relay counters since start; `connectionsOpen` and `identitiesBound` are gauges. */
export class RelayMetrics {
  /** Connections currently open. */
  connectionsOpen = 0;
  /** Connections accepted since start. */
  connectionsAccepted = 0;
  /** Connections refused by `max_connections` or `max_connections_per_ip`. */
  connectionsRejected = 0;
  /** Closed because no identity was registered within `idle_timeout`. */
  closedIdle = 0;
  /** Closed because their outbound queue overflowed (slow receivers). */
  closedSlow = 0;
  /** Closed because one write took longer than `write_timeout`. */
  closedWriteTimeout = 0;
  /** Closed because another connection registered one of their identities. */
  closedTakeover = 0;
  /** Closed for a bad frame length or an undecodable packet. */
  closedMalformed = 0;
  /** Frames received. */
  framesIn = 0;
  /** Bytes received in frames, length prefixes included. */
  bytesIn = 0;
  /** Frames queued for sending (replies, forwards, heartbeats). */
  framesOut = 0;
  /** Unsigned packets dropped. */
  droppedUnsigned = 0;
  /** Packets dropped for a malformed or non-verifying signature. */
  droppedBadSignature = 0;
  /** Packets dropped for claiming an identity pinned to another key. */
  droppedBinding = 0;
  /** Packets dropped for claiming an identity an open connection holds under another key. */
  droppedTakeover = 0;
  /** Packets that had to wait for the rate limiter. */
  throttled = 0;
  /** Packet deliveries queued to receivers (a swarm packet counts once per receiver). */
  forwarded = 0;
  /** `error:offline` replies. */
  offline = 0;
  /** `error:delivery_failed` replies. */
  deliveryFailed = 0;
  /** Heartbeat frames queued. */
  heartbeats = 0;
  /** Identities pinned to a public key (with `bind_identities`). */
  identitiesBound = 0;

  /** The counters with snake_case names, as `discover:metrics` reports them. */
  toJson(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of Object.entries(this)) {
      if (typeof value === "number") {
        out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
      }
    }
    return out;
  }
}
