/** Fuzz target of the net layer: the streaming FrameReader every TCP protocol reads with. */
import {
  type ByteSource,
  FrameReader,
  type FrameReaderOptions,
} from "../../../src/net/mod.ts";
import {
  ensure,
  expectClean,
  type FuzzTarget,
  pieces,
  pieceSource,
  sameBytes,
} from "../fuzz_target.ts";
import { streamed } from "../mutate.ts";
import {
  FRAME_SEEDS,
  KEEP_FRAMES,
  KEEP_PACKETS,
  MESSAGE_BODIES,
} from "../seeds.ts";
import { frameStream, modelFrames } from "./wire.ts";

/** The limits every protocol reads with, and small ones that make the limit paths common. */
const MODES: readonly (FrameReaderOptions & { min: number; max: number })[] = [
  { min: 0, max: 1_048_576 },
  { min: 1, max: 65_536, minFrameBytes: 1, maxFrameBytes: 65_536 },
  { min: 0, max: 64, maxFrameBytes: 64, initialBufferBytes: 1 },
  {
    min: 1,
    max: 300,
    minFrameBytes: 1,
    maxFrameBytes: 300,
    initialBufferBytes: 8,
    retainFrames: true,
  },
  { min: 0, max: 1_048_576, initialBufferBytes: 16, retainFrames: true },
];

type Outcome = { frames: Uint8Array[]; end: "end" | "pending" | "error" };

/** Reads with `next()`, as the node's connections do. */
async function readAll(
  source: ByteSource,
  mode: FrameReaderOptions,
): Promise<Outcome> {
  const reader = new FrameReader(source, mode);
  const kept: Uint8Array[] = [];
  const copies: Uint8Array[] = [];
  for (;;) {
    let frame: Uint8Array | null;
    try {
      frame = await reader.next();
    } catch (error) {
      expectClean(error, [RangeError, SyntaxError], "FrameReader.next()");
      return check(error instanceof RangeError ? "error" : "pending");
    }
    if (frame === null) return check("end");
    kept.push(frame);
    copies.push(frame.slice());
  }
  function check(end: Outcome["end"]): Outcome {
    // Retained frames stay intact while later frames are read.
    if (mode.retainFrames) {
      ensure(
        kept.every((f, i) => sameBytes(f, copies[i]!)),
        "a retained frame was overwritten",
      );
    }
    return { frames: copies, end };
  }
}

/** Reads with `buffered()` / `space()` / `received()`, as the relay's connections do. */
async function readInPlace(
  source: ByteSource,
  mode: FrameReaderOptions,
): Promise<Outcome> {
  const reader = new FrameReader(source, mode);
  const frames: Uint8Array[] = [];
  try {
    for (;;) {
      const frame = reader.buffered();
      if (frame !== undefined) {
        frames.push(frame.slice());
        reader.releaseFrames();
        continue;
      }
      const space = reader.space();
      ensure(space.length > 0, "FrameReader.space() offered no room");
      const n = await source.read(space);
      if (n === null) {
        reader.ended();
        return { frames, end: "end" };
      }
      reader.received(n);
    }
  } catch (error) {
    expectClean(error, [RangeError, SyntaxError], "FrameReader");
    return { frames, end: error instanceof RangeError ? "error" : "pending" };
  }
}

const frameReader: FuzzTarget = {
  name: "net.frame-reader",
  about:
    "FrameReader (knarr, keep and small limits, retained frames): same frames and error as a reference, whole or split",
  input: () =>
    streamed(frameStream(
      [...FRAME_SEEDS, ...KEEP_FRAMES],
      [...MESSAGE_BODIES.slice(0, 4), ...KEEP_PACKETS, new Uint8Array(0)],
    )),
  open: () => ({
    async check({ data, cuts }) {
      for (const mode of MODES) {
        const model = modelFrames(data, mode.min, mode.max);
        for (const read of [readAll, readInPlace]) {
          const got = await read(pieceSource(pieces(data, cuts)), mode);
          ensure(
            got.frames.length === model.bodies.length &&
              got.frames.every((f, i) =>
                sameBytes(f.subarray(4), model.bodies[i]!)
              ),
            `FrameReader (${mode.min}..${mode.max}, ${read.name}) read ${got.frames.length} frames, the reference ${model.bodies.length}`,
          );
          ensure(
            got.end === model.end,
            `FrameReader (${mode.min}..${mode.max}, ${read.name}) ended "${got.end}", the reference "${model.end}"`,
          );
        }
      }
    },
  }),
};

/** The net layer's targets. */
export const NET_TARGETS: readonly FuzzTarget[] = [frameReader];
