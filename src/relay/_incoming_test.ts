import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { Identity } from "../crypto/mod.ts";
import { encodeFrame } from "./frame.ts";
import { decodePacket, encodePacket } from "./packet.ts";
import type { PacketInit } from "./packet.ts";
import { signPacket } from "./signature.ts";
import { readPacket } from "./_incoming.ts";

const key = await Identity.generate();
const encoder = new TextEncoder();

async function signedFrame(init: PacketInit): Promise<Uint8Array> {
  return encodeFrame(encodePacket(await signPacket(init, key)));
}

function withExtra(frame: Uint8Array, extra: number[]): Uint8Array {
  return encodeFrame(new Uint8Array([...frame.subarray(4), ...extra]));
}

Deno.test("readPacket() reads canonical packets in place, as the general decoder does", async () => {
  let seed = 7;
  const random = (n: number) =>
    Math.floor((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 * n);
  const alphabet = Array.from("aé€😀z");
  const text = (n: number) =>
    Array.from({ length: n }, () => alphabet[random(5)]).join("");
  for (let i = 0; i < 200; i++) {
    const init: PacketInit = {
      typ: [0, 1, 2, 0xffff_ffff][random(4)]!,
      id: text(random(3) * 50),
      src: random(4) === 0 ? "" : `bot:${text(random(20))}`,
      dst: ["server", "", "bot:x", `swarm:${text(80)}`][random(4)]!,
      body: text([0, 5, 200, 10_000][random(4)]!),
      fee: [0n, 1n, 1000n, (1n << 64n) - 1n][random(4)]!,
      ttl: random(2) * 60,
      scar: new Uint8Array(random(3) * 7).fill(random(256)),
    };
    const frame = await signedFrame(init);
    const general = decodePacket(frame.subarray(4));
    const read = readPacket(frame);
    assertEquals(
      [read.src, read.dst, read.pk, read.scar, read.id, read.unsigned],
      [
        general.src,
        general.dst,
        general.pk,
        general.scar,
        encoder.encode(general.id),
        false,
      ],
    );
    // The id is a view into the frame: the packet was read in place.
    assert(read.id.length === 0 || read.id.buffer === frame.buffer);
    assert(await read.valid, `packet ${i} verifies`);
  }
});

Deno.test("readPacket() falls back to the canonical re-encoding for other encodings", async (t) => {
  const frame = await signedFrame({ id: "1", src: "bot:a", dst: "bot:b" });
  await t.step("an unknown field (not covered by the signature)", async () => {
    const extra = withExtra(frame, [0xf2, 0x07, 0x01, 0x78]);
    const read = readPacket(extra);
    assert(read.id.buffer !== extra.buffer, "read by the general decoder");
    assert(await read.valid);
  });
  await t.step("a non-minimal length varint", async () => {
    // body "hi" as 3a 82 00 6869 instead of 3a 02 6869: the signature covers the canonical form.
    const signed = await signPacket(
      { id: "2", dst: "server", body: "hi" },
      key,
    );
    const wire = encodePacket(signed);
    const padded = new Uint8Array([
      ...wire.subarray(0, wire.length - 3),
      0x82,
      0x00,
      ...wire.subarray(wire.length - 2),
    ]);
    assertStrictEquals(padded[padded.length - 5], 0x3a);
    assert(await readPacket(encodeFrame(padded)).valid);
  });
  await t.step("a tampered payload does not verify", async () => {
    const tampered = frame.slice();
    tampered[tampered.length - 1]! ^= 1;
    assert(!await readPacket(tampered).valid);
  });
  await t.step("unsigned", async () => {
    const unsigned = readPacket(encodeFrame(new Uint8Array([0x2a, 1, 0x61])));
    assertEquals([unsigned.unsigned, await unsigned.valid], [true, false]);
  });
  await t.step("invalid UTF-8 is undecodable either way", () => {
    const bad = frame.slice();
    bad[bad.length - 1] = 0xff;
    assertThrows(() => readPacket(bad), SyntaxError);
  });
});
