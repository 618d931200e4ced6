/** Frames of packets the relay itself sends: replies and heartbeats, signed or not. */
import type { Identity } from "../crypto/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { encodeFrame, FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from "./frame.ts";
import { signedPayload } from "./packet.ts";
import type { Packet } from "./packet.ts";

/** The relay key and its encoded `pk` field, when replies are signed. */
export interface Signer {
  identity: Identity;
  pkField: Uint8Array;
}

const SIGNATURE_FIELD_BYTES = 2 + 64;
const ENCODER = new TextEncoder();
// typ 1, then (after the id) src "server": the fixed fields of every reply.
const TYP_REPLY = [0x18, 0x01];
const SRC_SERVER = [0x2a, 0x06, ...ENCODER.encode("server")];
// Reply bodies repeat ("done", "error:offline", …): encode each once.
const bodyCache = new Map<string, Uint8Array>();
const MAX_CACHED_BODIES = 16;

/** The `pk` field as it follows the signature in a signed packet: `1220` + 32 key bytes. */
export function publicKeyField(identity: Identity): Uint8Array {
  const field = new Uint8Array(2 + 32);
  field.set([0x12, 0x20]);
  field.set(hexToBytes(identity.publicKey), 2);
  return field;
}

/**
 * A whole frame for a relay packet. Fields 1 and 2 come first in field order, so the signed
 * packet is `0a40` + signature + `1220` + key + the canonical payload, built here in one buffer.
 */
export async function buildFrame(
  signer: Signer | null,
  packet: Packet,
): Promise<Uint8Array> {
  const payload = signedPayload(packet);
  if (signer === null) return encodeFrame(payload);
  const frame = allocateFrame(signer, payload.length);
  frame.set(payload, frame.length - payload.length);
  return await sign(signer, frame, payload.length);
}

/**
 * The frame of `Packet{typ: 1, id, src: "server", body}`, written directly in canonical field
 * order with the request's id bytes as received (the same bytes the packet codec would write).
 */
export function buildReplyFrame(
  signer: Signer | null,
  id: Uint8Array,
  body: string,
): Uint8Array | Promise<Uint8Array> {
  const bodyBytes = encodeBody(body);
  const idField = id.length === 0 ? 0 : 1 + varintSize(id.length) + id.length;
  const bodyField = bodyBytes.length === 0
    ? 0
    : 1 + varintSize(bodyBytes.length) + bodyBytes.length;
  const payloadLength = TYP_REPLY.length + idField + SRC_SERVER.length +
    bodyField;
  const frame = signer === null
    ? unsignedFrame(payloadLength)
    : allocateFrame(signer, payloadLength);
  let p = frame.length - payloadLength;
  frame.set(TYP_REPLY, p);
  p += TYP_REPLY.length;
  if (idField > 0) {
    frame[p++] = 0x22;
    p = writeVarint(frame, p, id.length);
    frame.set(id, p);
    p += id.length;
  }
  frame.set(SRC_SERVER, p);
  p += SRC_SERVER.length;
  if (bodyField > 0) {
    frame[p++] = 0x3a;
    p = writeVarint(frame, p, bodyBytes.length);
    frame.set(bodyBytes, p);
  }
  return signer === null ? frame : sign(signer, frame, payloadLength);
}

function encodeBody(body: string): Uint8Array {
  const cached = bodyCache.get(body);
  if (cached !== undefined) return cached;
  const bytes = ENCODER.encode(body);
  if (body.length <= 64 && bodyCache.size < MAX_CACHED_BODIES) {
    bodyCache.set(body, bytes);
  }
  return bytes;
}

function checkLength(length: number): void {
  if (length > MAX_FRAME_BYTES) {
    throw new RangeError(
      `Cannot encode frame: length ${length} is outside 1 to ${MAX_FRAME_BYTES}`,
    );
  }
}

function unsignedFrame(payloadLength: number): Uint8Array {
  checkLength(payloadLength);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payloadLength);
  writeLength(frame, payloadLength);
  return frame;
}

/** A frame with room for the signature, the key field filled in, and the payload at the end. */
function allocateFrame(signer: Signer, payloadLength: number): Uint8Array {
  const length = SIGNATURE_FIELD_BYTES + signer.pkField.length + payloadLength;
  checkLength(length);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + length);
  writeLength(frame, length);
  frame[FRAME_HEADER_BYTES] = 0x0a;
  frame[FRAME_HEADER_BYTES + 1] = 64;
  frame.set(signer.pkField, FRAME_HEADER_BYTES + SIGNATURE_FIELD_BYTES);
  return frame;
}

/** Signs the payload at the end of `frame` and writes the signature in front of the key. */
function sign(
  signer: Signer,
  frame: Uint8Array,
  payloadLength: number,
): Promise<Uint8Array> {
  // A promise chain, not an async function: every reply pays for it.
  return signer.identity.signBytes(
    frame.subarray(frame.length - payloadLength),
  ).then((sig) => {
    frame.set(sig, FRAME_HEADER_BYTES + 2);
    return frame;
  });
}

// Byte by byte rather than through a DataView: a reply then allocates nothing but its frame.
function writeLength(frame: Uint8Array, length: number): void {
  frame[0] = length >>> 24;
  frame[1] = (length >>> 16) & 0xff;
  frame[2] = (length >>> 8) & 0xff;
  frame[3] = length & 0xff;
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(bytes: Uint8Array, p: number, value: number): number {
  while (value >= 0x80) {
    bytes[p++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  bytes[p++] = value;
  return p;
}
