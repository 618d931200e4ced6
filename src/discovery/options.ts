/** Timings and limits of discovery, with the protocol's defaults. */

/** Options for {@linkcode Discovery}. Times in seconds unless named `Ms`. */
export interface DiscoveryOptions {
  /** Peers each announcement goes to. Default 3. */
  fanout?: number;
  /** Ping a peer silent this long. Default 90. */
  heartbeatAfter?: number;
  /** Remove a peer silent this long. Default 300. */
  peerExpiry?: number;
  /** Never expire peers below this count. Default 8. */
  minPeers?: number;
  /** Seconds between prunes of expired skills. Default 60. */
  pruneInterval?: number;
  /** Own skills are re-announced every `reannounce ± reannounceJitter`. Default 300 ± 30. */
  reannounce?: number;
  /** Largest random shift of each re-announce, either way. Default 30. */
  reannounceJitter?: number;
  /** Deadline of each network query to a peer. Default 3000 ms. */
  queryTimeoutMs?: number;
  /** Peers asked per query wave. Default 8. */
  queryWave?: number;
  /** Deadline of join, sync and gossip requests. Default 5000 ms. */
  requestTimeoutMs?: number;
  /** First and largest delay between re-joins when no peer is left. Default 1 and 60. */
  rejoinMin?: number;
  /** Largest delay between re-joins; the delay doubles up to it. Default 60. */
  rejoinMax?: number;
  /** How often maintenance runs. Default 1000 ms. */
  tickMs?: number;
  /** Contact within this long makes a provider live for queries. Default 300. */
  liveWindow?: number;
  /** Seconds between peer exchanges (a JOIN with a random peer to learn its table). Default 120. */
  peerExchangeInterval?: number;
  /**
   * Received ANNOUNCE/DEREGISTER messages passed on per second (each to `fanout` peers), 10
   * seconds' worth at once; a quarter of it for messages from one remote address (64 at once).
   * Past it a message is still stored, not passed on. Null: unlimited. Default 20.
   */
  forwardsPerSecond?: number | null;
}

/** Options with every default filled in. */
export type ResolvedDiscoveryOptions = Required<DiscoveryOptions>;

/** Fills in defaults. */
export function resolveDiscoveryOptions(
  options: DiscoveryOptions = {},
): ResolvedDiscoveryOptions {
  return {
    fanout: options.fanout ?? 3,
    heartbeatAfter: options.heartbeatAfter ?? 90,
    peerExpiry: options.peerExpiry ?? 300,
    minPeers: options.minPeers ?? 8,
    pruneInterval: options.pruneInterval ?? 60,
    reannounce: options.reannounce ?? 300,
    reannounceJitter: options.reannounceJitter ?? 30,
    queryTimeoutMs: options.queryTimeoutMs ?? 3000,
    queryWave: options.queryWave ?? 8,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
    rejoinMin: options.rejoinMin ?? 1,
    rejoinMax: options.rejoinMax ?? 60,
    tickMs: options.tickMs ?? 1000,
    liveWindow: options.liveWindow ?? 300,
    peerExchangeInterval: options.peerExchangeInterval ?? 120,
    forwardsPerSecond: options.forwardsPerSecond === undefined
      ? 20
      : options.forwardsPerSecond,
  };
}

/** TTL of a remote skill: 1800 s below 20 peers, 3600 s below 50, else 5400 s. */
export function skillTtl(peerCount: number): number {
  return peerCount < 20 ? 1800 : peerCount < 50 ? 3600 : 5400;
}

/** Gossip hop limit: 2, or 3 once 50 or more peers are known. */
export function maxHops(peerCount: number): number {
  return peerCount >= 50 ? 3 : 2;
}
