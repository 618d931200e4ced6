/** Errors of the asset store that callers (the sidecar) turn into answers. */

/** An asset larger than `maxBytes` (HTTP 413). */
export class AssetTooLargeError extends RangeError {
  /** Bytes offered. */
  readonly size: number;
  /** The limit. */
  readonly maxBytes: number;
  /** Takes the size and the limit. */
  constructor(size: number, maxBytes: number) {
    super(`Cannot store asset: ${size} bytes exceeds maximum ${maxBytes}`);
    this.name = "AssetTooLargeError";
    this.size = size;
    this.maxBytes = maxBytes;
  }
}

/** Storing an asset would pass the total quota (HTTP 507). */
export class AssetQuotaError extends RangeError {
  /** Bytes offered. */
  readonly size: number;
  /** Bytes stored or being written. */
  readonly usedBytes: number;
  /** The quota. */
  readonly maxTotalBytes: number;
  /** Takes the size, the bytes in use and the quota. */
  constructor(size: number, usedBytes: number, maxTotalBytes: number) {
    super(
      `Cannot store asset: ${size} more bytes would pass the quota (${usedBytes} of ${maxTotalBytes} bytes in use)`,
    );
    this.name = "AssetQuotaError";
    this.size = size;
    this.usedBytes = usedBytes;
    this.maxTotalBytes = maxTotalBytes;
  }
}

/** The content does not hash to the hash it was sent with (HTTP 400). */
export class AssetHashMismatchError extends Error {
  /** The hash announced. */
  readonly expected: string;
  /** The hash of what arrived. */
  readonly actual: string;
  /** Takes the announced and the actual hash. */
  constructor(expected: string, actual: string) {
    super(`Content hash mismatch: expected "${expected}", got "${actual}"`);
    this.name = "AssetHashMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/** The source ended before the announced size (HTTP 400). */
export class AssetTruncatedError extends Error {
  /** Bytes that arrived. */
  readonly received: number;
  /** Bytes announced. */
  readonly size: number;
  /** Takes the bytes received and announced. */
  constructor(received: number, size: number) {
    super(`Truncated body: got ${received} of ${size} bytes`);
    this.name = "AssetTruncatedError";
    this.received = received;
    this.size = size;
  }
}
