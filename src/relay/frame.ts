/** The keep protocol's framing limits on the shared framing of `net/`: 1 ≤ N ≤ 65,536. */
import {
  encodeFrame as encodeNetFrame,
  FRAME_HEADER_BYTES,
  FrameReader as NetFrameReader,
} from "../net/mod.ts";
import type {
  ByteSource,
  FrameLimits,
  FrameReaderOptions as NetFrameReaderOptions,
} from "../net/mod.ts";

/** Largest packet a frame may carry, in bytes. */
export const MAX_FRAME_BYTES = 65_536;
export { FRAME_HEADER_BYTES };
export type { ByteSource };

/** The keep protocol's frame limits (an empty frame is malformed). */
export const KEEP_FRAME_LIMITS: Readonly<Required<FrameLimits>> = Object.freeze(
  { minFrameBytes: 1, maxFrameBytes: MAX_FRAME_BYTES },
);

/** Prefixes packet bytes with their length in one buffer (so a frame goes out in one write). */
export function encodeFrame(packet: Uint8Array): Uint8Array {
  return encodeNetFrame(packet, KEEP_FRAME_LIMITS);
}

/** Options for {@linkcode FrameReader}. */
export type FrameReaderOptions = Omit<NetFrameReaderOptions, keyof FrameLimits>;

/**
 * Reads whole keep frames, length prefix included: throws `RangeError` for a length of 0 or
 * above 65,536 and `SyntaxError` when the stream ends inside a frame.
 *
 * @example
 * ```ts
 * const reader = new FrameReader(conn);
 * const frame = await reader.next(); // null at a clean end of stream
 * ```
 */
export class FrameReader extends NetFrameReader {
  /** Reads from `source` with the keep limits. */
  constructor(source: ByteSource, options: FrameReaderOptions = {}) {
    super(source, { ...options, ...KEEP_FRAME_LIMITS });
  }
}
