/** Which connections a sidecar takes, and which give way when it is full. */
import type { SidecarStats } from "./sidecar_server.ts";

/** A connection still sending its request gives way to a newer one only after this long. */
const EVICT_AFTER_MS = 1_000;
/** 503s within a second that put an address in backoff. */
const BACKOFF_REFUSALS = 8;
/** How long its new connections are then closed at accept. */
const BACKOFF_MS = 1_000;
const MAX_BACKOFF_ADDRESSES = 10_000;

/** An admitted connection. */
interface Admitted {
  host: string;
  /** When it was admitted (performance.now()). */
  since: number;
  /** Still sending its request (a head or an upload body): it may give way to a newer one. */
  reading: boolean;
  close(): void;
}

/** Caps of {@linkcode Admission}. */
export interface AdmissionLimits {
  /** Connections in all. */
  maxConnections: number;
  /** Connections from one address. */
  maxConnectionsPerAddress: number;
}

/**
 * The connections a sidecar holds, by address: caps them in all and per address, makes
 * room for newcomers from connections still sending their requests, and backs off
 * addresses it keeps refusing.
 */
export class Admission {
  // In admission order: the first reading one is the oldest to give way.
  #admitted = new Map<number, Admitted>();
  #perAddress = new Map<string, number>();
  // Addresses refused for capacity (503) again and again: their next connections are
  // closed at once for a while, before a TLS handshake costs anything.
  #backoff = new Map<
    string,
    { refusals: number; since: number; until: number }
  >();
  #nextAdmission = 0;
  #stats: SidecarStats;
  #max: number;
  #maxPerAddress: number;

  /** Counts in `stats` (refused, evicted, backedOff, connections). */
  constructor(stats: SidecarStats, limits: AdmissionLimits) {
    this.#stats = stats;
    this.#max = limits.maxConnections;
    this.#maxPerAddress = limits.maxConnectionsPerAddress;
  }

  /** The connection is being answered: it no longer gives way to newer ones. */
  answering(admission: number): void {
    const entry = this.#admitted.get(admission);
    if (entry !== undefined) entry.reading = false;
  }

  /** An admission number for a new connection from `host`, or null: close it at once. */
  admit(host: string, close: () => void): number | null {
    const fromHost = this.#perAddress.get(host) ?? 0;
    const backoff = this.#backoff.get(host);
    if (backoff !== undefined && performance.now() < backoff.until) {
      this.#stats.refused++;
      return null;
    }
    if (
      fromHost >= this.#maxPerAddress ||
      (this.#admitted.size >= this.#max &&
        !this.#evictOne() && !this.#evictFromLargest(fromHost))
    ) {
      this.#stats.refused++;
      return null;
    }
    const admission = this.#nextAdmission++;
    this.#admitted.set(admission, {
      host,
      since: performance.now(),
      reading: true,
      close,
    });
    this.#perAddress.set(host, fromHost + 1);
    this.#stats.connections++;
    return admission;
  }

  /**
   * Closes the oldest connection still sending its request after a second (an honest request
   * sends its head at once); false when there is none.
   */
  #evictOne(): boolean {
    const now = performance.now();
    for (const [admission, entry] of this.#admitted) {
      // In admission order: once one is too young, all the rest are too.
      if (now - entry.since < EVICT_AFTER_MS) return false;
      if (!entry.reading) continue;
      this.#stats.evicted++;
      this.release(admission);
      entry.close();
      return true;
    }
    return false;
  }

  /**
   * Closes a connection of the address holding the most, when it holds more than
   * `fromHost` (the newcomer's address): its oldest still sending its request (an upload,
   * or a head) or lingering after a refusal; a request being answered is never cut. Many
   * addresses each within their cap cannot then fill the server and keep a new one out.
   * False when there is no such connection.
   */
  #evictFromLargest(fromHost: number): boolean {
    let largest = "";
    let most = 0;
    for (const [host, count] of this.#perAddress) {
      if (count > most) [largest, most] = [host, count];
    }
    if (most <= fromHost) return false;
    for (const [admission, entry] of this.#admitted) {
      if (entry.host !== largest || !entry.reading) continue;
      this.#stats.evicted++;
      this.release(admission);
      entry.close();
      return true;
    }
    return false;
  }

  /**
   * Counts a 503 of `host`'s; past {@linkcode BACKOFF_REFUSALS} within a second, its new
   * connections are closed at accept for {@linkcode BACKOFF_MS} (a client told "try again"
   * that retries at once only costs handshakes).
   */
  refusedBusy(host: string): void {
    const now = performance.now();
    let entry = this.#backoff.get(host);
    if (entry === undefined || now - entry.since > 1_000) {
      if (entry === undefined && this.#backoff.size >= MAX_BACKOFF_ADDRESSES) {
        this.#backoff.delete(this.#backoff.keys().next().value!);
      }
      entry = { refusals: 0, since: now, until: 0 };
      this.#backoff.set(host, entry);
    }
    if (++entry.refusals > BACKOFF_REFUSALS) {
      entry.until = now + BACKOFF_MS;
      entry.refusals = 0;
      entry.since = now;
      this.#stats.backedOff++;
    }
  }

  /** Forgets a connection that closed. */
  release(admission: number): void {
    const entry = this.#admitted.get(admission);
    if (entry === undefined) return;
    this.#admitted.delete(admission);
    const left = (this.#perAddress.get(entry.host) ?? 1) - 1;
    if (left <= 0) this.#perAddress.delete(entry.host);
    else this.#perAddress.set(entry.host, left);
  }
}
