/** Errors of the relay layer that callers branch on. */

/** The connection to the relay closed before the awaited reply arrived. */
export class ConnectionClosedError extends Error {
  /** Takes the message and error options (pass `cause` when wrapping). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionClosedError";
  }
}
