/** Signing and verifying keep packets (Ed25519 over the canonical encoding of fields 3–10). */
import type { Identity } from "../crypto/mod.ts";
import { verifyBytes } from "../crypto/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { createPacket, signedPayload } from "./packet.ts";
import type { Packet, PacketInit } from "./packet.ts";

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** Outcome of checking a packet's signature. */
export type PacketVerdict =
  /** `sig` and `pk` both empty. */
  | "unsigned"
  /** Only one of them, a wrong length, or a signature that does not verify. */
  | "invalid"
  | "valid";

/**
 * Signs a packet: serializes fields 3–10, signs them, then sets `sig` and `pk`.
 *
 * @example
 * ```ts
 * const identity = await Identity.generate();
 * const packet = await signPacket({ id: "1", src: "bot:me", dst: "server", body: "hi" }, identity);
 * ```
 */
export async function signPacket(
  init: PacketInit,
  identity: Identity,
): Promise<Packet> {
  const packet = createPacket(init);
  packet.sig = await identity.signBytes(signedPayload(packet));
  packet.pk = hexToBytes(identity.publicKey);
  return packet;
}

/** Checks `sig` against `pk` over the canonical re-encoding of the parsed fields 3–10. */
export async function verifyPacket(packet: Packet): Promise<PacketVerdict> {
  const { sig, pk } = packet;
  if (sig.length === 0 && pk.length === 0) return "unsigned";
  if (sig.length !== SIGNATURE_BYTES || pk.length !== PUBLIC_KEY_BYTES) {
    return "invalid";
  }
  return await verifyBytes(pk, sig, signedPayload(packet))
    ? "valid"
    : "invalid";
}
