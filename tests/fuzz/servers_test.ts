/**
 * Fuzz inputs over real loopback sockets: mutated frames, packets and HTTP heads, split across
 * writes, to a real KnarrNode, RelayServer and SidecarServer; after every batch each must still
 * answer a good request. The inputs are the fuzz targets' (a fresh seed each run, printed when a
 * check fails; FUZZ_SEED=n repeats one).
 */
import fc from "fast-check";
import { assert, assertEquals } from "../assert.ts";
import { Identity } from "../../src/crypto/mod.ts";
import { FrameReader } from "../../src/net/mod.ts";
import { KnarrNode } from "../../src/node/mod.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  signMessage,
  verifyMessage,
} from "../../src/wire/mod.ts";
import { RawPeer, startRelay } from "../relay_helpers.ts";
import { rawExchange, signedHead, startSidecar } from "../sidecar_helpers.ts";
import { type FuzzInput, pieces } from "./fuzz_target.ts";
import { streamed } from "./mutate.ts";
import { targetNamed } from "./registry.ts";
import {
  FRAME_SEEDS,
  KEEP_FRAMES,
  KEEP_PACKETS,
  MESSAGE_BODIES,
} from "./seeds.ts";
import { frameStream } from "./targets/wire.ts";

const seedText = Deno.env.get("FUZZ_SEED");
const seed = seedText === undefined
  ? Math.floor(Math.random() * 2 ** 31)
  : Number(seedText);
const BATCH = 16;

/** Inputs of a target's arbitrary, or any arbitrary, for this run's seed. */
function sample(
  arbitrary: fc.Arbitrary<FuzzInput>,
  count: number,
): FuzzInput[] {
  return fc.sample(arbitrary, { seed, numRuns: count });
}

/** Frames `body` with its length, as a peer would. */
function framed(input: FuzzInput): FuzzInput {
  const frame = new Uint8Array(4 + input.data.length);
  new DataView(frame.buffer).setUint32(0, input.data.length);
  frame.set(input.data, 4);
  return { data: frame, cuts: input.cuts };
}

/**
 * Writes the input's pieces one write each (a pause between them), half-closes, and reads
 * until the server closes or `waitMs` passes.
 */
async function deliver(
  conn: Deno.Conn,
  input: FuzzInput,
  waitMs: number,
): Promise<void> {
  try {
    for (const piece of pieces(input.data, input.cuts)) {
      for (let at = 0; at < piece.length;) {
        at += await conn.write(piece.subarray(at));
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await conn.closeWrite();
    const buffer = new Uint8Array(64 * 1024);
    const deadline = setTimeout(() => conn.close(), waitMs);
    try {
      while ((await conn.read(buffer)) !== null) { /* drain */ }
    } finally {
      clearTimeout(deadline);
    }
  } catch {
    // The server closed first: a refusal is what hostile input should get.
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function inBatches(
  inputs: FuzzInput[],
  send: (input: FuzzInput) => Promise<void>,
  stillServing: (after: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < inputs.length; i += BATCH) {
    await Promise.all(inputs.slice(i, i + BATCH).map(send));
    await stillServing(i + BATCH);
  }
}

Deno.test(`KnarrNode keeps serving through fuzzed frames split across writes (seed ${seed})`, async () => {
  await using node = await KnarrNode.create({ host: "127.0.0.1" });
  await node.start({ maintenance: false });
  const me = await Identity.generate();
  const messages = targetNamed("node.message").input().map(framed);
  const streams = streamed(
    frameStream(FRAME_SEEDS, MESSAGE_BODIES.slice(0, 4)),
  );
  const inputs = sample(
    fc.oneof({ weight: 3, arbitrary: messages }, {
      weight: 1,
      arbitrary: streams,
    }),
    160,
  );
  await inBatches(
    inputs,
    async (input) => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: node.address.port,
      });
      await deliver(conn, input, 300);
    },
    async (after) => {
      const query = await signMessage(
        "QUERY",
        { query_type: "all", value: "" },
        me,
      );
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: node.address.port,
      });
      const peer = { read: (b: Uint8Array) => conn.read(b) };
      try {
        await conn.write(encodeFrame(encodeMessage(query)));
        const frame = await new FrameReader(peer).next();
        assert(
          frame !== null,
          `no answer to a good QUERY after ${after} fuzzed inputs`,
        );
        const verdict = await verifyMessage(decodeMessage(frame.subarray(4)));
        assertEquals(verdict.status, "ok", `after ${after} fuzzed inputs`);
      } finally {
        conn.close();
      }
    },
  );
});

Deno.test(`RelayServer keeps serving through fuzzed keep frames split across writes (seed ${seed})`, async () => {
  await using relay = await startRelay();
  const key = await Identity.generate();
  const packets = targetNamed("relay.packet").input().map(framed);
  const streams = streamed(frameStream(KEEP_FRAMES, [...KEEP_PACKETS]));
  const inputs = sample(
    fc.oneof({ weight: 3, arbitrary: packets }, {
      weight: 1,
      arbitrary: streams,
    }),
    160,
  );
  await inBatches(
    inputs,
    async (input) => {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: relay.port,
      });
      await deliver(conn, input, 300);
    },
    async (after) => {
      using peer = await RawPeer.connect(relay.port);
      await peer.send(key, { id: `good after ${after}`, dst: "server" });
      assertEquals((await peer.readNonHeartbeat()).id, `good after ${after}`);
    },
  );
});

Deno.test(`SidecarServer keeps serving through fuzzed HTTP heads split across writes (seed ${seed})`, async () => {
  await using sidecar = await startSidecar();
  const inputs = sample(targetNamed("sidecar.http-head").input(), 80);
  await inBatches(
    inputs,
    async (input) => {
      // Mostly over TLS, as clients come; some in plaintext, which is answered in plaintext.
      const conn = input.data[0]! % 4 === 0
        ? await Deno.connect({ hostname: "127.0.0.1", port: sidecar.port })
        : await Deno.connectTls({
          hostname: "127.0.0.1",
          port: sidecar.port,
          caCerts: [sidecar.certificate.certPem],
          unsafelyDisableHostnameVerification: true,
        });
      await deliver(conn, input, 2_000);
    },
    async (after) => {
      // A key of its own each time: two requests signed in one second would be a replay.
      const signer = await Identity.generate();
      const answer = await rawExchange(
        sidecar,
        await signedHead(signer, "GET", "/assets"),
      );
      assertEquals(
        answer.status,
        200,
        `after ${after} fuzzed heads: ${answer.head}`,
      );
    },
  );
});
