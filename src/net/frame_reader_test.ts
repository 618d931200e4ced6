import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
  readVector,
} from "../../tests/assert.ts";
import { bytesToHex, hexToBytes } from "../util/mod.ts";
import { encodeFrame, FrameReader } from "./mod.ts";
import {
  byteSource as source,
  concat,
  header,
} from "../../tests/frame_helpers.ts";

Deno.test("encodeFrame() prefixes the big-endian length within the limits", () => {
  assertEquals([...encodeFrame(new Uint8Array([7, 8, 9]))], [
    0,
    0,
    0,
    3,
    7,
    8,
    9,
  ]);
  assertStrictEquals(encodeFrame(new Uint8Array(0)).length, 4);
  assertThrows(() => encodeFrame(new Uint8Array(1_048_577)), {
    name: "RangeError",
    message: "Cannot encode frame: length 1048577 exceeds maximum 1048576",
  });
  assertThrows(() => encodeFrame(new Uint8Array(0), { minFrameBytes: 1 }), {
    name: "RangeError",
    message: "Cannot encode frame: length 0 is outside 1 to 1048576",
  });
});

Deno.test("FrameReader.next() reassembles frames whatever the read boundaries", async (t) => {
  const frames = [0, 1, 300, 5_000, 70_000, 2].map((n) =>
    encodeFrame(new Uint8Array(n).fill(n % 251))
  );
  const stream = concat(...frames);
  for (const retainFrames of [false, true]) {
    for (const chunk of [1, 3, 7, 1_000, 80_000, Infinity]) {
      await t.step(
        `reads of ${chunk} bytes, retain ${retainFrames}`,
        async () => {
          const reader = new FrameReader(source(stream, chunk), {
            initialBufferBytes: 16,
            retainFrames,
          });
          const got: Uint8Array[] = [];
          for (
            let f = await reader.next();
            f !== null;
            f = await reader.next()
          ) {
            got.push(retainFrames ? f : f.slice());
          }
          // Retained frames are still intact after every later read.
          assertEquals(got, frames);
        },
      );
    }
  }
});

Deno.test("FrameReader checks the limits as soon as the prefix arrives", async (t) => {
  const limits = { minFrameBytes: 1, maxFrameBytes: 100 };
  await t.step("the limits themselves are accepted", async () => {
    for (const length of [1, 100]) {
      const frame = concat(header(length), new Uint8Array(length));
      const reader = new FrameReader(source(frame), limits);
      assertStrictEquals((await reader.next())?.length, length + 4);
    }
  });
  for (const length of [0, 101, 0xffff_ffff]) {
    await t.step(`${length} is refused before its body arrives`, async () => {
      const src = source(header(length));
      const reader = new FrameReader(src, { ...limits, peer: '"a:1"' });
      await assertRejects(() => reader.next(), {
        name: "RangeError",
        message:
          `Cannot read frame from "a:1": length ${length} is outside 1 to 100`,
      });
      assert(src.largest <= 1_024, "no room was made for the claimed body");
    });
  }
});

Deno.test("FrameReader asks frameLimit as each prefix arrives, within maxFrameBytes", async () => {
  let limit = 10;
  const frames = concat(
    header(8),
    new Uint8Array(8),
    header(50),
    new Uint8Array(50),
    header(200),
  );
  const src = source(frames);
  const reader = new FrameReader(src, {
    maxFrameBytes: 100,
    frameLimit: () => limit,
    peer: '"a:1"',
  });
  assertStrictEquals((await reader.next())?.length, 12);
  limit = 1_000_000; // never above maxFrameBytes
  assertStrictEquals((await reader.next())?.length, 54);
  await assertRejects(() => reader.next(), {
    name: "RangeError",
    message: 'Cannot read frame from "a:1": length 200 exceeds maximum 100',
  });
  limit = 4;
  const small = new FrameReader(source(concat(header(8), new Uint8Array(8))), {
    frameLimit: () => limit,
  });
  await assertRejects(() => small.next(), RangeError, "exceeds maximum 4");
});

Deno.test("FrameReader.next() returns null at a clean end and throws inside a frame", async () => {
  assertStrictEquals(
    await new FrameReader(source(new Uint8Array(0))).next(),
    null,
  );
  await assertRejects(
    () => new FrameReader(source(new Uint8Array([0, 0]))).next(),
    SyntaxError,
  );
  await assertRejects(
    () => new FrameReader(source(concat(header(10), new Uint8Array(9)))).next(),
    { name: "SyntaxError", message: /stream ended 13 bytes into a frame/ },
  );
});

Deno.test("FrameReader.buffered() hands out whole frames without reading", async () => {
  const frames = Array.from(
    { length: 200 },
    (_, i) => encodeFrame(new Uint8Array(20).fill(i)),
  );
  const src = source(concat(...frames));
  const reader = new FrameReader(src);
  const got = [(await reader.next())!.slice()];
  for (let f = reader.buffered(); f !== undefined; f = reader.buffered()) {
    got.push(f.slice());
  }
  // One read of the 1 KiB first buffer holds 42 frames of 24 bytes.
  assertStrictEquals(src.reads, 1);
  assertStrictEquals(got.length, 42);
  for (let f = await reader.next(); f !== null; f = await reader.next()) {
    got.push(f.slice());
  }
  assertEquals(got, frames);
  assert(src.reads < 20, `${src.reads} reads for 200 frames`);
});

interface FramingVectors {
  frames: { name: string; frame_hex: string; body_utf8: string }[];
  oversize_header_hex: string;
  truncated_frame_hex: string;
}

Deno.test("encodeFrame() and FrameReader match the knarr framing vectors", async (t) => {
  const vectors = readVector<FramingVectors>("framing.json");
  const stream = hexToBytes(vectors.frames.map((f) => f.frame_hex).join(""));
  const reader = new FrameReader(source(stream, 100));
  for (const vector of vectors.frames) {
    await t.step(vector.name, async () => {
      const body = new TextEncoder().encode(vector.body_utf8);
      assertStrictEquals(bytesToHex(encodeFrame(body)), vector.frame_hex);
      const frame = await reader.next();
      assertStrictEquals(bytesToHex(frame!), vector.frame_hex);
    });
  }
  await t.step("oversize header", async () => {
    const oversize = new FrameReader(
      source(hexToBytes(vectors.oversize_header_hex)),
    );
    await assertRejects(() => oversize.next(), RangeError);
  });
  await t.step("truncated frame", async () => {
    const truncated = new FrameReader(
      source(hexToBytes(vectors.truncated_frame_hex)),
    );
    await assertRejects(() => truncated.next(), SyntaxError);
  });
});

Deno.test("FrameReader.releaseFrames() lets a retaining reader read into the same buffer again", async (t) => {
  const frames = concat(
    encodeFrame(new Uint8Array(100).fill(1)),
    encodeFrame(new Uint8Array(100).fill(2)),
  );
  await t.step(
    "retained frames keep their bytes: the next frame goes after them",
    async () => {
      const reader = new FrameReader(source(frames, 104), {
        initialBufferBytes: 256,
        retainFrames: true,
      });
      const first = (await reader.next())!;
      const second = (await reader.next())!;
      assertStrictEquals(second.byteOffset, first.byteOffset + 104);
      assertEquals([first[4], second[4]], [1, 2]);
    },
  );
  await t.step("released frames give their bytes back", async () => {
    const reader = new FrameReader(source(frames, 104), {
      initialBufferBytes: 256,
      retainFrames: true,
    });
    const first = (await reader.next())!;
    const buffer = first.buffer;
    reader.releaseFrames();
    const second = (await reader.next())!;
    assertStrictEquals(second.buffer, buffer);
    assertStrictEquals(second.byteOffset, 0);
    assertEquals(second[4], 2);
  });
});
