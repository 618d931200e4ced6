/**
 * Fuzz targets of the keep relay: protobuf packets (the general decoder and the relay's in-place
 * fast path, which must agree), signatures, and the endpoint cache file.
 */
import fc from "fast-check";
import {
  createPacket,
  decodePacket,
  encodePacket,
  EndpointCache,
  type Packet,
  signedPayload,
  verifyPacket,
} from "../../../src/relay/mod.ts";
// The relay server's in-place reader is private to the relay; the fuzz target checks it against
// the general decoder, as its unit test does.
import { readPacket } from "../../../src/relay/_incoming.ts";
import { hexToBytes } from "../../../src/util/mod.ts";
import {
  attempt,
  attemptAsync,
  ensure,
  type FuzzTarget,
  sameBytes,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, whole } from "../mutate.ts";
import { hostileJson, jsonText, mutatedJson } from "../mutate_json.ts";
import { KEEP_PACKETS } from "../seeds.ts";
import { FUZZ_SIGNER } from "../signer.ts";

const text = fc.oneof(
  fc.constantFrom(
    "",
    "server",
    "bot:alice",
    "discover:info",
    "swarm:x",
    "nearest:",
    "knarr:" + "0".repeat(64),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }).filter((s) => s.isWellFormed()),
);
const bytes = fc.uint8Array({ maxLength: 80 });

/** Packet fields in range. */
const packetFields = fc.record({
  typ: fc.oneof(fc.constantFrom(0, 1, 2, 0xffff_ffff), fc.nat()),
  id: text,
  src: text,
  dst: text,
  body: text,
  fee: fc.oneof(
    fc.constantFrom(0n, 1n, (1n << 64n) - 1n),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ),
  ttl: fc.oneof(fc.constantFrom(0, 60, 0xffff_ffff), fc.nat()),
  scar: bytes,
});

/** A packet as the fuzz signer signs it, or unsigned, or with a key and signature of any length. */
const packetBytes = fc.tuple(
  packetFields,
  fc.constantFrom("signed", "unsigned", "junk"),
  bytes,
  bytes,
)
  .map(([fields, how, sig, pk]) => {
    const packet = createPacket(fields);
    if (how === "signed") {
      packet.sig = FUZZ_SIGNER.signBytes(signedPayload(packet));
      packet.pk = hexToBytes(FUZZ_SIGNER.publicKey);
    } else if (how === "junk") {
      packet.sig = sig;
      packet.pk = pk;
    }
    return encodePacket(packet);
  });

/** Fields of two packets equal (sig and pk included). */
function samePacket(a: Packet, b: Packet): boolean {
  return sameBytes(a.sig, b.sig) && sameBytes(a.pk, b.pk) && a.typ === b.typ &&
    a.id === b.id && a.src === b.src && a.dst === b.dst && a.body === b.body &&
    a.fee === b.fee && a.ttl === b.ttl && sameBytes(a.scar, b.scar);
}

const packet: FuzzTarget = {
  name: "relay.packet",
  about:
    "decodePacket/verifyPacket and the relay's in-place reader: SyntaxError only, the two readers agree, decode → encode → decode is stable",
  input: () => {
    const seeds = [
      ...KEEP_PACKETS,
      ...fc.sample(packetBytes, { numRuns: 30, seed: 7 }),
    ];
    return whole(fc.oneof(
      { weight: 2, arbitrary: packetBytes },
      {
        weight: 5,
        arbitrary: mutatedBytes(seeds, {
          tokens: [
            Uint8Array.of(0x0a, 0x40),
            Uint8Array.of(0x12, 0x20),
            Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10),
            Uint8Array.of(0x1b),
            Uint8Array.of(0x0b, 0x0c),
          ],
        }),
      },
      { weight: 1, arbitrary: randomBytes(256) },
    ));
  },
  open: () => ({
    async check({ data }) {
      const decoded = attempt(
        () => decodePacket(data),
        [SyntaxError],
        "decodePacket",
      );
      const frame = new Uint8Array(4 + data.length);
      frame.set(data, 4);
      const fast = attempt(
        () => readPacket(frame),
        [SyntaxError],
        "readPacket",
      );
      ensure(
        (decoded === undefined) === (fast === undefined),
        `decodePacket ${
          decoded ? "decoded" : "refused"
        } a packet the relay's reader ${fast ? "decoded" : "refused"}`,
      );
      if (decoded === undefined || fast === undefined) return;
      const verdict = await attemptAsync(
        () => verifyPacket(decoded),
        [],
        "verifyPacket",
      );
      ensure(
        fast.src === decoded.src && fast.dst === decoded.dst &&
          sameBytes(fast.id, utf8(decoded.id)) &&
          sameBytes(fast.pk, decoded.pk) &&
          sameBytes(fast.scar, decoded.scar),
        "decodePacket and the relay's reader disagree on src, dst, id, pk or scar",
      );
      ensure(
        fast.unsigned === (verdict === "unsigned"),
        "the two readers disagree on unsigned",
      );
      ensure(
        (await fast.valid) === (verdict === "valid"),
        `the relay's reader says ${
          await fast.valid ? "valid" : "invalid"
        }, verifyPacket "${verdict}"`,
      );
      const again = attempt(
        () => decodePacket(encodePacket(decoded)),
        [],
        "decodePacket of encodePacket",
      );
      ensure(
        samePacket(again!, decoded),
        "decodePacket → encodePacket → decodePacket changed the packet",
      );
      // A valid signature covers the canonical re-encoding, so it survives it.
      if (verdict === "valid") {
        ensure(
          await verifyPacket(again!) === "valid",
          "a valid packet does not verify after re-encoding",
        );
      }
    },
  }),
};

const ENDPOINTS =
  `{"endpoints": [{"host": "relay.example.org", "port": 9009, "version": "0.5.0", "agents_online": 3, "last_seen": "2026-01-01T00:00:00.000000+00:00"}, {"host": "127.0.0.1", "port": 9010}]}`;

const endpointCache: FuzzTarget = {
  name: "relay.endpoint-cache",
  about:
    "EndpointCache.read() of any file content: never throws, entries well-typed, record() then works",
  quickRuns: 150,
  longRunShare: 0.5,
  input: () =>
    whole(fc.oneof(
      { weight: 3, arbitrary: mutatedBytes([utf8(ENDPOINTS)]) },
      {
        weight: 3,
        arbitrary: mutatedJson([JSON.parse(ENDPOINTS)]).map((v) =>
          utf8(jsonText(v))
        ),
      },
      { weight: 1, arbitrary: hostileJson().map((v) => utf8(jsonText(v))) },
      { weight: 1, arbitrary: randomBytes() },
    )),
  async open() {
    const dir = await Deno.makeTempDir({ prefix: "knarr-fuzz-endpoints-" });
    const path = `${dir}/endpoints.json`;
    let step = 0;
    return {
      async check({ data }) {
        await Deno.writeFile(path, data);
        const cache = new EndpointCache({ path });
        const entries = await attemptAsync(
          () => cache.read(),
          [],
          "EndpointCache.read()",
        );
        for (const e of entries!) {
          ensure(
            typeof e.host === "string" && Number.isInteger(e.port) &&
              typeof e.version === "string" &&
              typeof e.agents_online === "number" &&
              typeof e.last_seen === "string",
            "EndpointCache.read() returned an ill-typed entry",
          );
        }
        // Every few inputs, updating the file works whatever it held.
        if (step++ % 8 === 0) {
          await attemptAsync(
            () => cache.record("10.0.0.1", 9009, { version: "x" }),
            [],
            "EndpointCache.record()",
          );
        }
      },
      close: () => Deno.remove(dir, { recursive: true }),
    };
  },
};

/** The relay layer's targets. */
export const RELAY_TARGETS: readonly FuzzTarget[] = [packet, endpointCache];
