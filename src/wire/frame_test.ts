import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { pythonWireJson } from "./canonical_json.ts";
import { encodeMessageFrame } from "./codec.ts";
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from "./frame.ts";
import { parseJson } from "./json_parse.ts";
import { readLosslessVector, toHex } from "./_test_vectors.ts";

interface FramingVectors {
  frames: {
    name: string;
    frame_hex: string;
    body_utf8: string;
    body_length: number;
  }[];
  oversize_header_hex: string;
  truncated_frame_hex: string;
}
const vectors = readLosslessVector<FramingVectors>("framing.json");

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function drain(decoder: FrameDecoder): string[] {
  return [...decoder].map((b) => new TextDecoder().decode(b));
}

Deno.test("encodeFrame() reproduces framing.json byte for byte", async (t) => {
  for (const f of vectors.frames) {
    await t.step(f.name, () => {
      const message = parseJson(f.body_utf8);
      const body = new TextEncoder().encode(pythonWireJson(message));
      assertEquals(body.length, f.body_length);
      assertEquals(toHex(encodeFrame(body)), f.frame_hex);
      assertEquals(toHex(encodeMessageFrame(message as object)), f.frame_hex);
    });
  }
});

Deno.test("encodeFrame() accepts exactly 1 MiB and refuses more", () => {
  assertEquals(
    encodeFrame(new Uint8Array(MAX_FRAME_BYTES)).length,
    MAX_FRAME_BYTES + 4,
  );
  assertThrows(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)), {
    name: "RangeError",
    message: "Cannot encode frame: length 1048577 exceeds maximum 1048576",
  });
});

Deno.test("FrameDecoder decodes the vector frames however they are chunked", async (t) => {
  const all = new Uint8Array(
    vectors.frames.flatMap((f) => [...fromHex(f.frame_hex)]),
  );
  const bodies = vectors.frames.map((f) => f.body_utf8);
  for (const size of [1, 2, 3, 4, 5, 7, 333, 337, 1000, all.length]) {
    await t.step(`chunks of ${size} bytes`, () => {
      const decoder = new FrameDecoder();
      const out: string[] = [];
      for (let i = 0; i < all.length; i += size) {
        decoder.push(all.subarray(i, i + size));
        out.push(...drain(decoder));
      }
      assertEquals(out, bodies);
      assertEquals(decoder.pendingBytes, 0);
    });
  }
});

Deno.test("FrameDecoder bodies survive reuse of the read buffer", () => {
  const decoder = new FrameDecoder();
  const buf = encodeFrame(new Uint8Array([1, 2, 3]));
  decoder.push(buf);
  buf.fill(9);
  assertEquals(decoder.next(), new Uint8Array([1, 2, 3]));
  assertEquals(decoder.next(), undefined);
});

Deno.test("FrameDecoder yields nothing for a truncated frame", () => {
  const decoder = new FrameDecoder();
  decoder.push(fromHex(vectors.truncated_frame_hex));
  assertEquals(decoder.next(), undefined);
  assertEquals(decoder.pendingBytes, 5);
});

Deno.test("FrameDecoder yields an empty body for a zero length", () => {
  const decoder = new FrameDecoder();
  decoder.push(new Uint8Array([0, 0, 0]));
  assertEquals(decoder.next(), undefined);
  decoder.push(new Uint8Array([0, 0, 0, 0, 1, 7]));
  assertEquals(drain(decoder).length, 2);
});

Deno.test("FrameDecoder refuses an oversized length without buffering the body", async (t) => {
  await t.step("the vector's header", () => {
    const decoder = new FrameDecoder();
    decoder.push(fromHex(vectors.oversize_header_hex));
    decoder.push(new Uint8Array(64 * 1024));
    assertEquals(decoder.pendingBytes, 0);
    const expected = {
      name: "RangeError",
      message: "Cannot decode frame: length 1048577 exceeds maximum 1048576",
    };
    assertThrows(() => decoder.next(), expected);
    assertThrows(() => decoder.next(), expected);
  });
  await t.step("frames before the oversized one are still delivered", () => {
    const decoder = new FrameDecoder();
    const ok = encodeFrame(new Uint8Array([42]));
    decoder.push(
      new Uint8Array([...ok, ...fromHex(vectors.oversize_header_hex)]),
    );
    assertEquals(decoder.next(), new Uint8Array([42]));
    assertThrows(() => decoder.next(), RangeError);
  });
  await t.step("split header", () => {
    const decoder = new FrameDecoder();
    for (const b of fromHex(vectors.oversize_header_hex)) {
      decoder.push(new Uint8Array([b]));
    }
    assertThrows(() => decoder.next(), RangeError);
  });
  await t.step("exactly 1 MiB is accepted", () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame(new Uint8Array(MAX_FRAME_BYTES).fill(1));
    decoder.push(frame.subarray(0, 10));
    decoder.push(frame.subarray(10));
    const body = decoder.next();
    assert(body !== undefined);
    assertEquals(body.length, MAX_FRAME_BYTES);
  });
  await t.step("a custom limit", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 2 });
    decoder.push(encodeFrame(new Uint8Array(3)));
    assertThrows(() => decoder.next(), {
      message: "Cannot decode frame: length 3 exceeds maximum 2",
    });
  });
});
