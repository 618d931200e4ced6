/** Frames of packets the relay itself sends: replies and heartbeats, signed or not. */
import type { Identity } from "../crypto/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { encodeFrame, FRAME_HEADER_BYTES } from "./frame.ts";
import { signedPayload } from "./packet.ts";
import type { Packet } from "./packet.ts";

/** The relay key and its encoded `pk` field, when replies are signed. */
export interface Signer {
  identity: Identity;
  pkField: Uint8Array;
}

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
  const sig = await signer.identity.signBytes(payload);
  const length = 2 + sig.length + signer.pkField.length + payload.length;
  const frame = new Uint8Array(FRAME_HEADER_BYTES + length);
  new DataView(frame.buffer).setUint32(0, length);
  let offset = FRAME_HEADER_BYTES;
  frame.set([0x0a, sig.length], offset);
  frame.set(sig, offset += 2);
  frame.set(signer.pkField, offset += sig.length);
  frame.set(payload, offset + signer.pkField.length);
  return frame;
}
