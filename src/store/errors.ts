/** Errors of the store layer. */

/** The database file cannot be used as a knarr store (corrupt, foreign, or from a newer knarr). */
export class StoreOpenError extends Error {
  /** Takes the message and error options (pass `cause` when wrapping). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreOpenError";
  }
}

/**
 * A write failed because of the database's storage (disk full, read-only, I/O error):
 * the node stops taking paid work until a write succeeds again. The message is one line
 * naming the problem and the fix.
 */
export class StorageUnavailableError extends Error {
  /** Takes the message and error options (pass `cause` when wrapping). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}
