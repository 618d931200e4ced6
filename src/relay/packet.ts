/** The keep Packet: protobufjs codec built from keep.proto, and its canonical signed payload. */
import protobuf from "protobufjs";
import KEEP_PROTO from "./keep.proto" with { type: "text" };

/** A decoded keep packet; every field is present, zero when absent on the wire. */
export interface Packet {
  /** Ed25519 signature (64 bytes), empty when unsigned. */
  sig: Uint8Array;
  /** Raw Ed25519 public key (32 bytes), empty when unsigned. */
  pk: Uint8Array;
  /** 0 ask, 1 offer/reply, 2 heartbeat (convention). */
  typ: number;
  /** Message id. */
  id: string;
  /** Sender identity, `type:name`. */
  src: string;
  /** Destination: `server`, empty, `discover:<q>`, `nearest:<p>`, `swarm:<p>` or an identity. */
  dst: string;
  /** Payload. */
  body: string;
  /** Micro-fee, an unsigned 64-bit integer. */
  fee: bigint;
  /** Seconds to live. */
  ttl: number;
  /** Opaque memory commit. */
  scar: Uint8Array;
}

/** Packet fields a caller sets; the rest default to zero values. */
export type PacketInit = Partial<Packet>;

const MAX_UINT32 = 0xffff_ffff;
const MAX_UINT64 = (1n << 64n) - 1n;
const EMPTY = new Uint8Array(0);

const PACKET_TYPE = protobuf.parse(KEEP_PROTO, { keepCase: true }).root
  .lookupType("Packet");
// protobufjs replaces invalid UTF-8 with U+FFFD; the protocol makes it a decode error. The BOM
// is kept so that the canonical re-encoding (and so the signature) stays byte-exact.
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class InvalidUtf8Error extends Error {}

// Groups (wire types 3 and 4) are not in keep.proto; an unknown field may still be one, but
// never nested this deep.
const MAX_GROUP_DEPTH = 100;

class StrictReader extends protobuf.Reader {
  /**
   * Skips an unknown field without recursion: protobufjs recurses into nested groups, so a
   * packet of 10,000 group starts (10 KB) overflowed the stack.
   */
  override skipType(wireType: number): this {
    let depth = 0;
    for (;;) {
      if (wireType === 3) {
        if (++depth > MAX_GROUP_DEPTH) {
          throw new Error(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
        }
      } else if (wireType === 4) {
        if (depth === 0) {
          throw new Error(`unexpected end of group at ${this.pos}`);
        }
        depth--;
      } else {
        super.skipType(wireType);
      }
      if (depth === 0) return this;
      wireType = this.uint32() & 7;
    }
  }

  override string(): string {
    const bytes = this.bytes();
    try {
      return STRICT_UTF8.decode(bytes);
    } catch (error) {
      throw new InvalidUtf8Error("invalid UTF-8 in a string field", {
        cause: error,
      });
    }
  }
}

/** A packet with zero values for every field not in `init`; throws on out-of-range values. */
export function createPacket(init: PacketInit = {}): Packet {
  const packet: Packet = {
    sig: init.sig ?? EMPTY,
    pk: init.pk ?? EMPTY,
    typ: init.typ ?? 0,
    id: init.id ?? "",
    src: init.src ?? "",
    dst: init.dst ?? "",
    body: init.body ?? "",
    fee: init.fee ?? 0n,
    ttl: init.ttl ?? 0,
    scar: init.scar ?? EMPTY,
  };
  checkUint32("typ", packet.typ);
  checkUint32("ttl", packet.ttl);
  if (
    typeof packet.fee !== "bigint" || packet.fee < 0n || packet.fee > MAX_UINT64
  ) {
    throw new RangeError(
      `Cannot build packet: fee ${
        String(packet.fee)
      } is not an unsigned 64-bit bigint`,
    );
  }
  for (const name of ["id", "src", "dst", "body"] as const) {
    if (typeof packet[name] !== "string" || !packet[name].isWellFormed()) {
      throw new TypeError(
        `Cannot build packet: ${name} is not a well-formed string`,
      );
    }
  }
  return packet;
}

function checkUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
    throw new RangeError(
      `Cannot build packet: ${name} ${value} is not an unsigned 32-bit integer`,
    );
  }
}

/** Serializes fields in number order, zero values omitted (proto3), minimal varints. */
export function encodePacket(packet: Packet): Uint8Array {
  const message: Record<string, unknown> = {};
  if (packet.sig.length > 0) message.sig = packet.sig;
  if (packet.pk.length > 0) message.pk = packet.pk;
  addPayloadFields(message, packet);
  return finish(message);
}

/** The bytes a signer signs: the canonical encoding of fields 3–10 (`sig` and `pk` left out). */
export function signedPayload(packet: Packet): Uint8Array {
  const message: Record<string, unknown> = {};
  addPayloadFields(message, packet);
  return finish(message);
}

function addPayloadFields(
  message: Record<string, unknown>,
  packet: Packet,
): void {
  // protobufjs writes every own property, zeros included; proto3 omits zeros, so only set non-zero.
  if (packet.typ !== 0) message.typ = packet.typ;
  if (packet.id !== "") message.id = packet.id;
  if (packet.src !== "") message.src = packet.src;
  if (packet.dst !== "") message.dst = packet.dst;
  if (packet.body !== "") message.body = packet.body;
  if (packet.fee !== 0n) message.fee = packet.fee.toString();
  if (packet.ttl !== 0) message.ttl = packet.ttl;
  if (packet.scar.length > 0) message.scar = packet.scar;
}

function finish(message: Record<string, unknown>): Uint8Array {
  // An explicit array Writer: the default one would hand back a Node Buffer.
  return PACKET_TYPE.encode(message, new protobuf.Writer()).finish();
}

interface LongLike {
  low: number;
  high: number;
}

/**
 * Parses a Packet; throws `SyntaxError` when the bytes are not a valid Packet, including invalid
 * UTF-8 in a string field. Byte fields are views into `bytes`, not copies.
 */
export function decodePacket(bytes: Uint8Array): Packet {
  let raw: Record<string, unknown>;
  try {
    raw = PACKET_TYPE.decode(new StrictReader(bytes)) as unknown as Record<
      string,
      unknown
    >;
  } catch (error) {
    const detail = error instanceof InvalidUtf8Error
      ? error.message
      : `malformed protobuf: ${(error as Error).message}`;
    throw new SyntaxError(`Cannot decode packet: ${detail}`, { cause: error });
  }
  return {
    sig: asBytes(raw.sig),
    pk: asBytes(raw.pk),
    typ: raw.typ as number,
    id: raw.id as string,
    src: raw.src as string,
    dst: raw.dst as string,
    body: raw.body as string,
    fee: toBigInt(raw.fee as number | LongLike),
    ttl: raw.ttl as number,
    scar: asBytes(raw.scar),
  };
}

// protobufjs's default for an absent bytes field is a frozen empty array, not a Uint8Array.
function asBytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : EMPTY;
}

function toBigInt(value: number | LongLike): bigint {
  if (typeof value === "number") return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}
