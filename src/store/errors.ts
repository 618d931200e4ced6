/** Errors of the store layer. */

/** The database file cannot be used as a knarr store (corrupt, foreign, or from a newer knarr). */
export class StoreOpenError extends Error {
  /** Takes the message and error options (pass `cause` when wrapping). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreOpenError";
  }
}
