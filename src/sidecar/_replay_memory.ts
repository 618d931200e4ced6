/**
 * The signatures a sidecar accepted while their timestamps are in the window, bounded, so
 * that a flood of valid signed requests can neither replay one nor lock everyone out.
 *
 * A replay carries the same `x-knarr-timestamp` as the original (the signature covers it),
 * so signatures are kept in one bucket per timestamp second, and only the bucket of a
 * request's own second is looked at. A bucket leaves once its second is out of the window:
 * such a request is refused by time anyway. When the memory is full of seconds still in the
 * window, the **oldest** second goes and becomes the **floor**: any request stamped at or
 * before it is refused from then on (no replay of what was forgotten), which only costs
 * clients whose clocks lag that far behind. Honest clients stamp "now", so the floor reaches
 * them only when a flood fills the memory within {@linkcode FLOOR_MARGIN_S} seconds; until
 * then, a full memory refuses the newcomer instead. Since the longest-lived entries are
 * those stamped ahead of the server clock (remembered up to twice the window), a memory half
 * full refuses timestamps more than {@linkcode AHEAD_WHEN_BUSY_S} seconds ahead: otherwise a
 * flood stamped a minute ahead would hold every slot in seconds no eviction could free
 * without refusing honest clients.
 *
 * Why not refuse "the key holding the most entries": keys cost nothing (a fresh one per
 * request), and the sidecar's per-address connection cap already bounds what one address
 * sends.
 */

/** Once the memory is half full, timestamps further ahead of the clock than this are refused. */
export const AHEAD_WHEN_BUSY_S = 5;
/** The floor never rises past `now - FLOOR_MARGIN_S`: a full memory refuses newcomers instead. */
export const FLOOR_MARGIN_S = 5;
/** Characters of the signature remembered: 16 bytes of its R half (a false match refuses, never admits). */
const KEY_CHARS = 32;

/** Why a signature may not be accepted, or null when it may. */
export type ReplayRefusal =
  | "replayed signature"
  | "timestamp ahead of server time while the replay memory is busy"
  | "timestamp older than the replay memory still covers"
  | "too many signed requests in the window";

/** Accepted signatures by timestamp second, at most `max` of them. */
export class ReplayMemory {
  #max: number;
  #window: number;
  #buckets = new Map<number, Set<string>>();
  #size = 0;
  #floor = -Infinity;
  #sweptAt = -Infinity;

  /** `max` signatures at most; `windowSeconds` is the verifier's timestamp window. */
  constructor(max: number, windowSeconds: number) {
    this.#max = max;
    this.#window = windowSeconds;
  }

  /** Signatures remembered. */
  get size(): number {
    return this.#size;
  }

  /** Whether a signature stamped `timestamp` could be accepted now (checked again by `add`). */
  check(
    signature: string,
    timestamp: number,
    now: number,
  ): ReplayRefusal | null {
    if (this.#buckets.get(timestamp)?.has(keyOf(signature))) {
      return "replayed signature";
    }
    if (timestamp <= this.#floor) {
      return "timestamp older than the replay memory still covers";
    }
    if (
      this.#size * 2 >= this.#max && timestamp > now + AHEAD_WHEN_BUSY_S
    ) return "timestamp ahead of server time while the replay memory is busy";
    return null;
  }

  /** Remembers an accepted signature, making room if it can; a refusal when it cannot. */
  add(
    signature: string,
    timestamp: number,
    now: number,
  ): ReplayRefusal | null {
    const refusal = this.check(signature, timestamp, now);
    if (refusal) return refusal;
    this.#sweep(now);
    if (this.#size >= this.#max && !this.#dropOldest(timestamp, now)) {
      return "too many signed requests in the window";
    }
    let bucket = this.#buckets.get(timestamp);
    if (!bucket) this.#buckets.set(timestamp, bucket = new Set());
    bucket.add(keyOf(signature));
    this.#size++;
    return null;
  }

  /** Drops the seconds that left the window (at most once a second). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 1 && this.#size < this.#max) return;
    this.#sweptAt = now;
    for (const [second, bucket] of this.#buckets) {
      if (second < now - this.#window) {
        this.#buckets.delete(second);
        this.#size -= bucket.size;
      }
    }
  }

  /** Forgets the oldest second (raising the floor to it) when it is older than `timestamp` and the margin. */
  #dropOldest(timestamp: number, now: number): boolean {
    let oldest = Infinity;
    for (const second of this.#buckets.keys()) {
      if (second < oldest) oldest = second;
    }
    if (!(oldest < timestamp && oldest < now - FLOOR_MARGIN_S)) return false;
    this.#size -= this.#buckets.get(oldest)!.size;
    this.#buckets.delete(oldest);
    this.#floor = Math.max(this.#floor, oldest);
    return true;
  }
}

function keyOf(signature: string): string {
  return signature.slice(0, KEY_CHARS);
}
