/** Holds received messages back until a node is ready (its skills and bridges loaded). */
export class ReadyGate {
  #ready: Promise<void> | null = null;
  #open = () => {};

  /** Holds messages until `ready` settles (fulfilled or rejected). */
  hold(ready: Promise<unknown>): void {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => open = resolve);
    this.#ready = gate;
    this.#open = open;
    ready.then(open, open);
    void gate.then(() => {
      if (this.#ready === gate) this.#ready = null;
    });
  }

  /** Null when open; else what to await before handling a message. */
  get waiting(): Promise<void> | null {
    return this.#ready;
  }

  /** Lets held messages through now (the node is closing). */
  open(): void {
    this.#open();
  }
}
