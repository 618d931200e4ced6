/** The keep relay spec's test vectors, shared by relay unit and end-to-end tests. */
import { hexToBytes } from "../src/util/mod.ts";

/** Seed bytes 01 02 … 20. */
export const VECTOR_SEED: Uint8Array = Uint8Array.from(
  { length: 32 },
  (_, i) => i + 1,
);
/** Public key of {@linkcode VECTOR_SEED}. */
export const VECTOR_PK_HEX =
  "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";

/** One vector: fields, signed payload, signature and the relay's reply frame. */
export interface KeepVector {
  fields: {
    typ?: number;
    id: string;
    src: string;
    dst: string;
    body: string;
    fee?: bigint;
    ttl: number;
    scar?: Uint8Array;
  };
  payloadHex: string;
  sigHex: string;
  replyFrameHex: string;
}

/** V1: a `server` request answered `done`. */
export const V1: KeepVector = {
  fields: {
    id: "vec-1",
    src: "bot:alice",
    dst: "server",
    body: "hello",
    ttl: 60,
  },
  payloadHex:
    "22057665632d312a09626f743a616c69636532067365727665723a0568656c6c6f483c",
  sigHex: "bb4251f1bf789f922777178ea1b579b1ec7879a11212b151e63083ae1b60ac6c" +
    "56913cbdf3663197762c6fb27d4fa5a1808b451e7c7ee0609e99e3545a02ce01",
  replyFrameHex: "00000017180122057665632d312a067365727665723a04646f6e65",
};

/** V2: every field set, to an identity that is not connected (`error:offline`). */
export const V2: KeepVector = {
  fields: {
    typ: 1,
    id: "vec-2",
    src: "bot:alice",
    dst: "bot:bob",
    body: "trade",
    fee: 1000n,
    ttl: 300,
    scar: Uint8Array.from([0x00, 0x01, 0x73, 0x63, 0x61, 0x72]),
  },
  payloadHex:
    "180122057665632d322a09626f743a616c6963653207626f743a626f623a0574726164654" +
    "0e80748ac025206000173636172",
  sigHex: "389017258c8e568a752cd42f739b69b6412525c5dd532a1d10a4e7ebe0821c03" +
    "5b3be6a419a6303343d541e72fa1ed48b866df8696cb1253fc45ebee863cd30a",
  replyFrameHex:
    "00000020180122057665632d322a067365727665723a0d6572726f723a6f66666c696e65",
};

/** The wire Packet of a vector: `0a40` + sig + `1220` + pk + payload. */
export function vectorWire(vector: KeepVector): Uint8Array {
  return hexToBytes(
    "0a40" + vector.sigHex + "1220" + VECTOR_PK_HEX + vector.payloadHex,
  );
}

/** The framed wire Packet of a vector. */
export function vectorFrame(vector: KeepVector): Uint8Array {
  const wire = vectorWire(vector);
  const frame = new Uint8Array(4 + wire.length);
  new DataView(frame.buffer).setUint32(0, wire.length);
  frame.set(wire, 4);
  return frame;
}

/** The heartbeat frame of the spec (unsigned). */
export const HEARTBEAT_FRAME_HEX = "0000000a18022a06736572766572";
