/** Errors of the net layer. */

/** A connection attempt or request did not complete in time. */
export class NetTimeoutError extends Error {
  /** Takes the message and error options (pass `cause` when wrapping). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NetTimeoutError";
  }
}
