/** A bounded set of recently seen gossip ids (insertion-ordered eviction). */
export class SeenSet {
  #max: number;
  #set = new Set<string>();
  constructor(max = 10_000) {
    this.#max = max;
  }
  /** Adds `id`; returns false when it was already there. */
  add(id: string): boolean {
    if (this.#set.has(id)) return false;
    this.#set.add(id);
    if (this.#set.size > this.#max) {
      this.#set.delete(this.#set.values().next().value!);
    }
    return true;
  }
}
