/** Message bodies: knarr messages to and from UTF-8 JSON bytes. */
import { pythonWireJson } from "./canonical_json.ts";
import {
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  writeFrameHeader,
} from "./frame.ts";
import { parseJson } from "./json_parse.ts";
import { isJsonObject, type JsonObject } from "./json_value.ts";

const encoder = new TextEncoder();

/** A decoded, not yet verified message: a JSON object with a string `type`. */
export type WireObject = JsonObject & { type: string };

/**
 * Encodes a message body as the original does (`json.dumps(msg)`: insertion
 * order, `", "` and `": "`, ASCII only), so our frames match its bytes.
 *
 * @example
 * ```ts
 * import { encodeMessage } from "./mod.ts";
 * encodeMessage({ type: "QUERY", query_type: "all" }); // bytes of '{"type": "QUERY", "query_type": "all"}'
 * ```
 */
export function encodeMessage(msg: object): Uint8Array<ArrayBuffer> {
  return encoder.encode(pythonWireJson(msg));
}

/**
 * Encodes a message straight into one frame buffer (header and body, one
 * allocation, one write). Throws `RangeError` past {@linkcode MAX_FRAME_BYTES}.
 */
export function encodeMessageFrame(msg: object): Uint8Array<ArrayBuffer> {
  // ensure_ascii output: one byte per UTF-16 code unit.
  const text = pythonWireJson(msg);
  if (text.length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `Cannot encode frame: length ${text.length} exceeds maximum ${MAX_FRAME_BYTES}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + text.length);
  writeFrameHeader(frame, text.length);
  encoder.encodeInto(text, frame.subarray(FRAME_HEADER_BYTES));
  return frame;
}

/**
 * Decodes a frame body losslessly into a JSON object with a string `type`.
 * Throws `SyntaxError` for invalid JSON or UTF-8, `TypeError` for another shape.
 *
 * @example
 * ```ts
 * import { decodeMessage } from "./mod.ts";
 * decodeMessage(new TextEncoder().encode('{"type": "SYNC_REQUEST", "since": 0.0}')).type; // "SYNC_REQUEST"
 * ```
 */
export function decodeMessage(body: Uint8Array | string): WireObject {
  const value = parseJson(body);
  if (!isJsonObject(value)) {
    throw new TypeError("Cannot decode message: body is not a JSON object");
  }
  if (typeof value.type !== "string") {
    throw new TypeError('Cannot decode message: "type" is not a string');
  }
  return value as WireObject;
}
