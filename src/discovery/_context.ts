/** The state that `Discovery` shares with its message handlers and outbound operations. */
import type { HostPort } from "../config/mod.ts";
import type { Logger } from "../util/mod.ts";
import type { Message } from "../wire/mod.ts";
import type { ForwardBudget } from "./_gossip.ts";
import type { SeenSet } from "./_gossip_seen.ts";
import type { DiscoveryDeps, DiscoveryStats } from "./discovery_types.ts";
import type { ResolvedDiscoveryOptions } from "./options.ts";

/**
 * What `Discovery` lends its handlers and operations. Each of them declares the part it
 * uses with `Pick<DiscoveryContext, …>`, so tests can hand it just that.
 */
export interface DiscoveryContext {
  /** The collaborators `Discovery` was built with. */
  readonly deps: DiscoveryDeps;
  /** Timings and limits, defaults filled in. */
  readonly options: ResolvedDiscoveryOptions;
  /** `deps.logger`, or a silent one. */
  readonly log: Logger;
  /** Gossip ids already handled, so each announcement is stored and forwarded once. */
  readonly seen: SeenSet;
  /** The counters `Discovery.stats` shows. */
  readonly stats: DiscoveryStats;
  /** Gossip forwards allowed per second; null: unlimited. */
  readonly forwards: ForwardBudget | null;
  /**
   * `Discovery.noteContact()`: records contact with a reply's signer, and confirms the peer
   * `dialed` when the reply is its own (it answered at the address we dialed).
   */
  noteContact(message: Message, dialed?: string): Promise<string>;
  /** Runs a promise in the background; `Discovery.close()` waits for it. */
  spawn(promise: Promise<unknown>): void;
}

/** `host:port`, as log lines and error messages show an address. */
export function addrKey(a: HostPort): string {
  return `${a.host}:${a.port}`;
}
