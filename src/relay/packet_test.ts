import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { V1, V2, vectorWire } from "../../tests/relay_vectors.ts";
import { bytesToHex, hexToBytes } from "../util/mod.ts";
import {
  createPacket,
  decodePacket,
  encodePacket,
  signedPayload,
} from "./packet.ts";

Deno.test("signedPayload() encodes the spec vectors byte-exact", async (t) => {
  for (const [name, vector] of [["V1", V1], ["V2", V2]] as const) {
    await t.step(name, () => {
      assertEquals(
        bytesToHex(signedPayload(createPacket(vector.fields))),
        vector.payloadHex,
      );
    });
  }
});

Deno.test("encodePacket() writes sig and pk first and reproduces the vector wire bytes", () => {
  const wire = vectorWire(V1);
  const packet = createPacket({
    ...V1.fields,
    sig: hexToBytes(V1.sigHex),
    pk: wire.subarray(68, 100),
  });
  assertEquals(bytesToHex(encodePacket(packet)), bytesToHex(wire));
  assertStrictEquals(wire.length, 135);
});

Deno.test("encodePacket() omits zero values, including explicit zeros", () => {
  assertEquals(
    encodePacket(
      createPacket({
        typ: 0,
        id: "",
        fee: 0n,
        ttl: 0,
        scar: new Uint8Array(0),
      }),
    ).length,
    0,
  );
  assertEquals(
    bytesToHex(encodePacket(createPacket({ typ: 2, src: "server" }))),
    "18022a06736572766572",
  );
});

Deno.test("decodePacket() reads every field of the V2 wire packet", () => {
  const packet = decodePacket(vectorWire(V2));
  assertEquals(bytesToHex(packet.sig), V2.sigHex);
  assertStrictEquals(packet.pk.length, 32);
  assertStrictEquals(packet.typ, 1);
  assertStrictEquals(packet.id, "vec-2");
  assertStrictEquals(packet.src, "bot:alice");
  assertStrictEquals(packet.dst, "bot:bob");
  assertStrictEquals(packet.body, "trade");
  assertStrictEquals(packet.fee, 1000n);
  assertStrictEquals(packet.ttl, 300);
  assertEquals(bytesToHex(packet.scar), "000173636172");
});

Deno.test("decodePacket() gives zero values for absent fields", () => {
  const packet = decodePacket(new Uint8Array(0));
  assertEquals(packet, createPacket());
  assert(packet.sig instanceof Uint8Array && packet.scar instanceof Uint8Array);
});

Deno.test("decodePacket() keeps the full uint64 range of fee", () => {
  const max = (1n << 64n) - 1n;
  assertStrictEquals(
    decodePacket(encodePacket(createPacket({ fee: max }))).fee,
    max,
  );
});

Deno.test("decodePacket() skips unknown fields, which the signed payload then leaves out", () => {
  const unknown = hexToBytes("f2070378797a"); // field 126, length-delimited "xyz"
  const bytes = new Uint8Array([...vectorWire(V1), ...unknown]);
  assertEquals(bytesToHex(signedPayload(decodePacket(bytes))), V1.payloadHex);
});

Deno.test("decodePacket() skips an unknown group, and refuses groups nested past 100 without recursing", () => {
  // Field 12 as a group holding field 1 = 1, then its end: skipped like any unknown field.
  const group = hexToBytes("63080164");
  const bytes = new Uint8Array([...vectorWire(V1), ...group]);
  assertEquals(bytesToHex(signedPayload(decodePacket(bytes))), V1.payloadHex);
  // Found by the fuzzer (relay.packet): 10,000 group starts (10 KB) overflowed the stack
  // inside protobufjs.
  const deep = new Uint8Array([
    ...vectorWire(V1),
    ...new Uint8Array(10_000).fill(0x63),
  ]);
  assertThrows(() => decodePacket(deep), (e: unknown) => {
    return e instanceof SyntaxError &&
      /groups nested deeper than 100/.test(e.message);
  });
  assertThrows(() => decodePacket(hexToBytes("64")), SyntaxError); // an end without a start
});

Deno.test("decodePacket() rejects invalid UTF-8 in string fields with SyntaxError", async (t) => {
  const cases: [string, string][] = [
    ["lone continuation byte in body", "3a0180"],
    ["0xff in src", "2a03626fff"],
    ["overlong encoding of '/'", "3a02c0af"],
    ["UTF-16 surrogate encoded in UTF-8", "2203eda080"],
    ["truncated 3-byte sequence in dst", "3202e282"],
  ];
  for (const [name, hex] of cases) {
    await t.step(name, () => {
      assertThrows(() => decodePacket(hexToBytes(hex)), (e: unknown) => {
        return e instanceof SyntaxError && /invalid UTF-8/.test(e.message);
      });
    });
  }
});

Deno.test("decodePacket() keeps a leading BOM so the re-encoding stays byte-exact", () => {
  const bytes = hexToBytes("3a05efbbbf6869"); // body "\uFEFFhi"
  const packet = decodePacket(bytes);
  assertStrictEquals(packet.body, "\uFEFFhi");
  assertEquals(bytesToHex(signedPayload(packet)), "3a05efbbbf6869");
});

Deno.test("decodePacket() rejects truncated and malformed protobuf with SyntaxError", async (t) => {
  for (
    const hex of ["3a05", "0a", "18", "3aff", "0f", "ffffffffffffffffffffff01"]
  ) {
    await t.step(hex, () => {
      assertThrows(() => decodePacket(hexToBytes(hex)), SyntaxError);
    });
  }
});

Deno.test("createPacket() refuses values the schema cannot carry", () => {
  assertThrows(() => createPacket({ typ: -1 }), RangeError);
  assertThrows(() => createPacket({ ttl: 2 ** 32 }), RangeError);
  assertThrows(() => createPacket({ typ: 1.5 }), RangeError);
  assertThrows(() => createPacket({ fee: 1n << 64n }), RangeError);
  assertThrows(() => createPacket({ fee: -1n }), RangeError);
  assertThrows(() => createPacket({ body: "\ud800" }), TypeError);
});
