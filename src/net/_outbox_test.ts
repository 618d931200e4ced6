import {
  assert,
  assertEquals,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { Outbox } from "./_outbox.ts";

Deno.test("Outbox joins consecutive frames of one buffer into one view, without a copy", () => {
  const received = new Uint8Array(100).map((_, i) => i);
  const outbox = new Outbox();
  outbox.push(received.subarray(10, 20));
  outbox.push(received.subarray(20, 45));
  outbox.push(received.subarray(45, 50));
  assertEquals([outbox.frames, outbox.bytes], [3, 40]);
  const chunk = outbox.take()!;
  assertStrictEquals(chunk.buffer, received.buffer);
  assertEquals([chunk.byteOffset, chunk.length], [10, 40]);
  assertEquals([outbox.frames, outbox.waitingFrames, outbox.waitingBytes], [
    3,
    0,
    0,
  ]);
  outbox.written();
  assertEquals([outbox.frames, outbox.bytes], [0, 0]);
  assertStrictEquals(outbox.take(), null);
});

Deno.test("Outbox copies small frames from different buffers into one chunk, in order", () => {
  const outbox = new Outbox();
  const frames = [1, 2, 3, 4].map((n) => new Uint8Array(n).fill(n));
  for (const frame of frames) outbox.push(frame);
  const chunk = outbox.take()!;
  assertEquals([...chunk], [1, 2, 2, 3, 3, 3, 4, 4, 4, 4]);
  outbox.written();
  // What arrives while a chunk is being written waits behind it.
  outbox.push(frames[0]!);
  assertStrictEquals(outbox.take(), frames[0]);
  outbox.push(frames[1]!);
  assertEquals([outbox.frames, outbox.waitingFrames, outbox.waitingBytes], [
    2,
    1,
    2,
  ]);
});

Deno.test("Outbox never copies a frame of 64 KiB or more", () => {
  const outbox = new Outbox();
  const small = new Uint8Array(10);
  const large = new Uint8Array(64 * 1024);
  outbox.push(small);
  outbox.push(large);
  outbox.push(small);
  assertStrictEquals(outbox.take(), small);
  outbox.written();
  assertStrictEquals(outbox.take(), large);
  outbox.written();
  assertStrictEquals(outbox.take(), small);
  outbox.written();
  assert(outbox.empty);
});

Deno.test("Outbox starts a new chunk when the current one is full", () => {
  const outbox = new Outbox();
  const frame = () => new Uint8Array(40_000).fill(7);
  outbox.push(frame());
  outbox.push(frame());
  outbox.push(frame());
  const sizes: number[] = [];
  for (let chunk = outbox.take(); chunk !== null; chunk = outbox.take()) {
    sizes.push(chunk.length);
    outbox.written();
  }
  assertEquals(sizes, [80_000, 40_000]);
  assertEquals([outbox.frames, outbox.bytes], [0, 0]);
});

Deno.test("Outbox holds a few small frames in a small chunk, not a 64 KiB one (relay soak: 5,000 receivers)", () => {
  const outbox = new Outbox();
  outbox.push(new Uint8Array(250).fill(1));
  outbox.push(new Uint8Array(250).fill(2));
  const chunk = outbox.take()!;
  assertEquals(chunk.length, 500);
  assert(chunk.buffer.byteLength <= 1024, `${chunk.buffer.byteLength} bytes`);
  assertEquals([chunk[0], chunk[250], chunk[499]], [1, 2, 2]);
});

Deno.test("Outbox grows a chunk while small frames keep coming, up to 64 KiB, in order", () => {
  const outbox = new Outbox();
  // 330 frames of 200 bytes, each from a buffer of its own: 327 fill 64 KiB, 3 go next.
  for (let i = 0; i < 330; i++) outbox.push(new Uint8Array(200).fill(i % 251));
  const chunks: Uint8Array[] = [];
  for (let chunk = outbox.take(); chunk !== null; chunk = outbox.take()) {
    chunks.push(chunk.slice());
    outbox.written();
  }
  assertEquals(chunks.map((c) => c.length), [65_400, 600]);
  const all = new Uint8Array(330 * 200);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  for (let i = 0; i < 330; i++) assertEquals(all[i * 200 + 199], i % 251);
  assertEquals([outbox.frames, outbox.bytes], [0, 0]);
});
