import {
  assertEquals,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "./frame.ts";
import {
  byteSource as source,
  concat,
  header,
} from "../../tests/frame_helpers.ts";

async function readAll(reader: FrameReader): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for (let f = await reader.next(); f !== null; f = await reader.next()) {
    frames.push(f.slice());
  }
  return frames;
}

Deno.test("encodeFrame() prefixes the big-endian length", () => {
  assertEquals([...encodeFrame(new Uint8Array([7, 8, 9]))], [
    0,
    0,
    0,
    3,
    7,
    8,
    9,
  ]);
  assertThrows(() => encodeFrame(new Uint8Array(0)), RangeError);
  assertThrows(
    () => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)),
    RangeError,
  );
  assertStrictEquals(
    encodeFrame(new Uint8Array(MAX_FRAME_BYTES)).length,
    MAX_FRAME_BYTES + 4,
  );
});

Deno.test("FrameReader.next() reassembles frames whatever the read boundaries", async (t) => {
  const frames = [1, 300, 5_000, MAX_FRAME_BYTES, 2].map((n) =>
    encodeFrame(new Uint8Array(n).fill(n % 251))
  );
  const stream = concat(...frames);
  for (const chunk of [1, 3, 7, 1_000, 70_000, Infinity]) {
    await t.step(`reads of ${chunk} bytes`, async () => {
      const got = await readAll(
        new FrameReader(source(stream, chunk), { initialBufferBytes: 16 }),
      );
      assertEquals(got, frames);
    });
  }
});

Deno.test("FrameReader.next() accepts 65,536 bytes and refuses 0 and 65,537", async (t) => {
  await t.step("65,536", async () => {
    const frame = concat(
      header(MAX_FRAME_BYTES),
      new Uint8Array(MAX_FRAME_BYTES),
    );
    assertStrictEquals(
      (await new FrameReader(source(frame)).next())?.length,
      MAX_FRAME_BYTES + 4,
    );
  });
  for (const length of [0, MAX_FRAME_BYTES + 1, 0xffff_ffff]) {
    await t.step(String(length), async () => {
      // The length alone is enough: the body never arrives.
      const reader = new FrameReader(source(header(length)));
      await assertRejects(() => reader.next(), RangeError);
    });
  }
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
    SyntaxError,
  );
});

Deno.test("FrameReader.next() batches many small frames into few reads", async () => {
  const frames = Array.from(
    { length: 200 },
    (_, i) => encodeFrame(new Uint8Array(20).fill(i)),
  );
  const src = source(concat(...frames));
  assertEquals(await readAll(new FrameReader(src)), frames);
  // 200 frames of 24 bytes: far fewer reads than frames once the buffer has grown.
  assertStrictEquals(src.reads < 20, true);
});
