/** Fuzz targets of discovery: skill sheets from peers and the Kademlia plugin's payloads. */
import fc from "fast-check";
import {
  MAX_SHEET_BYTES,
  plainJson,
  requiredInputs,
  sheetMaxInputSize,
  sheetName,
  sheetPrice,
  sheetTags,
  stripInternal,
  validateSheet,
} from "../../../src/discovery/mod.ts";
import {
  decodeRpc,
  encodeRpc,
  type KadRpc,
} from "../../../src/discovery/kademlia/mod.ts";
import {
  canonicalJson,
  isJsonObject,
  parseJson,
} from "../../../src/wire/mod.ts";
import {
  attempt,
  ensure,
  type FuzzTarget,
  text,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, whole } from "../mutate.ts";
import { hostileJson, jsonText, mutatedJson } from "../mutate_json.ts";
import { SHEET_SEEDS } from "../seeds.ts";

const NAME_RE = /^[a-z0-9-]{1,64}$/;
const SHEET_KEYS = [
  "name",
  "version",
  "description",
  "tags",
  "input_schema",
  "output_schema",
  "price",
  "max_input_size",
  "uri",
  "_required",
  "_load",
];

const skillSheet: FuzzTarget = {
  name: "discovery.skill-sheet",
  about:
    "validateSheet and the sheet readers: never throw; a valid sheet has a valid name, fits 4096 bytes and stays valid stripped",
  input: () =>
    whole(fc.oneof(
      {
        weight: 5,
        arbitrary: mutatedJson(SHEET_SEEDS, { keys: SHEET_KEYS }).map((v) =>
          utf8(jsonText(v))
        ),
      },
      {
        weight: 2,
        arbitrary: mutatedBytes(SHEET_SEEDS.map((s) => utf8(jsonText(s)))),
      },
      { weight: 1, arbitrary: hostileJson().map((v) => utf8(jsonText(v))) },
    )),
  open: () => ({
    check({ data }) {
      const sheet = attempt(() => parseJson(data), [SyntaxError], "parseJson");
      if (sheet === undefined) return;
      const problem = attempt(() => validateSheet(sheet), [], "validateSheet");
      ensure(
        problem === null || typeof problem === "string",
        "validateSheet returned neither null nor a reason",
      );
      if (!isJsonObject(sheet)) {
        ensure(problem !== null, "validateSheet accepted a non-object");
        return;
      }
      attempt(
        () => {
          sheetTags(sheet);
          sheetPrice(sheet);
          sheetMaxInputSize(sheet);
          requiredInputs(sheet);
          plainJson(sheet);
        },
        [],
        "the sheet readers",
      );
      if (problem !== null) return;
      ensure(
        NAME_RE.test(sheetName(sheet)),
        `validateSheet accepted the name ${JSON.stringify(sheetName(sheet))}`,
      );
      ensure(
        utf8(canonicalJson(sheet)).length <= MAX_SHEET_BYTES,
        "validateSheet accepted a sheet over 4096 bytes",
      );
      ensure(
        validateSheet(stripInternal(sheet)) === null,
        "a valid sheet is invalid without its internal keys",
      );
      ensure(
        Number.isFinite(sheetPrice(sheet)),
        "a valid sheet has a price that is not finite",
      );
    },
  }),
};

const hex = (length: number) =>
  fc.string({
    unit: fc.constantFrom(..."0123456789abcdef"),
    minLength: length,
    maxLength: length,
  });
const peer = fc.record({
  nodeId: hex(64),
  host: fc.string({ minLength: 1, maxLength: 255 }),
  port: fc.integer({ min: 1, max: 65535 }),
});
const proof = fc.record({
  publicKey: hex(64),
  issuedAt: fc.integer({ min: 0, max: 1e11 }),
  signature: hex(128),
});
const requestId = fc.string({ maxLength: 128 });
const skillKey = fc.string({ maxLength: 256 });
const token = fc.string({ maxLength: 128 });

/** Valid Kademlia actions, every field in range (also the seeds of the node's plugin messages). */
export const validRpc: fc.Arbitrary<KadRpc> = fc.oneof(
  fc.record({
    action: fc.constant("FIND_NODE" as const),
    requestId,
    target: hex(64),
  }),
  fc.record({
    action: fc.constant("FIND_NODE_RESP" as const),
    requestId,
    peers: fc.array(peer, { maxLength: 20 }),
  }),
  fc.record({
    action: fc.constant("GET_PROVIDERS" as const),
    requestId,
    skillKey,
  }),
  fc.record({
    action: fc.constant("GET_PROVIDERS_RESP" as const),
    requestId,
    providers: fc.array(
      fc.record({
        nodeId: hex(64),
        host: fc.string({ minLength: 1, maxLength: 255 }),
        port: fc.integer({ min: 1, max: 65535 }),
        sidecarPort: fc.integer({ min: 0, max: 65535 }),
        storedAt: fc.oneof(
          fc.integer({ min: 0, max: 1e11 }),
          fc.double({ min: 0, max: 1e11, noNaN: true }),
        ),
        ttl: fc.integer({ min: 0, max: 86_400 }),
        skillKey,
        proof: fc.option(proof, { nil: undefined }),
      }, {
        requiredKeys: [
          "nodeId",
          "host",
          "port",
          "sidecarPort",
          "storedAt",
          "ttl",
          "skillKey",
        ],
      }),
      { maxLength: 5 },
    ),
    closerPeers: fc.array(peer, { maxLength: 5 }),
    token,
  }),
  fc.record({
    action: fc.constant("PUT_PROVIDER" as const),
    requestId,
    skillKey,
    sidecarPort: fc.integer({ min: 0, max: 65535 }),
    token,
    proof: fc.option(proof, { nil: undefined }),
  }, {
    requiredKeys: ["action", "requestId", "skillKey", "sidecarPort", "token"],
  }),
).chain((rpc) =>
  fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }).map((
    replyPort,
  ) => (replyPort === undefined ? rpc : { ...rpc, replyPort }) as KadRpc)
);

/** Valid payloads with their values replaced, deleted or added as JSON trees. */
export const mutatedPayloads: fc.Arbitrary<Uint8Array> = validRpc.chain(
  (rpc) => {
    const { action, payload } = encodeRpc(rpc);
    return mutatedJson([JSON.parse(payload)], {
      keys: [
        "_request_id",
        "_reply_port",
        "target",
        "peers",
        "providers",
        "closer_peers",
        "node_id",
        "host",
        "port",
        "sidecar_port",
        "stored_at",
        "ttl",
        "issued_at",
        "signature",
        "public_key",
        "token",
        "skill_key",
      ],
    }).map((tree) => utf8(`${action}\0${jsonText(tree)}`));
  },
);

function rpcBytes(rpc: KadRpc): Uint8Array {
  const { action, payload } = encodeRpc(rpc);
  return utf8(`${action}\0${payload}`);
}

/** Integers of a payload: ports, TTLs, signing times (a holder's `stored_at` may have a fraction). */
function intsOf(rpc: KadRpc): number[] {
  const out: number[] = [];
  const addPeer = (p: { port: number }) => out.push(p.port);
  if (rpc.replyPort !== undefined) out.push(rpc.replyPort);
  switch (rpc.action) {
    case "FIND_NODE_RESP":
      rpc.peers.forEach(addPeer);
      break;
    case "GET_PROVIDERS_RESP":
      rpc.closerPeers.forEach(addPeer);
      for (const p of rpc.providers) {
        out.push(p.port, p.sidecarPort, p.ttl);
        if (p.proof) out.push(p.proof.issuedAt);
      }
      break;
    case "PUT_PROVIDER":
      out.push(rpc.sidecarPort);
      if (rpc.proof) out.push(rpc.proof.issuedAt);
  }
  return out;
}

const kademliaRpc: FuzzTarget = {
  name: "kademlia.rpc",
  about:
    "decodeRpc: TypeError/RangeError/SyntaxError only; decoded numbers are integers; decode → encode → decode is stable",
  input: () => {
    const seeds = fc.sample(validRpc, { numRuns: 40, seed: 12 }).map(rpcBytes);
    return whole(fc.oneof(
      { weight: 2, arbitrary: validRpc.map(rpcBytes) },
      { weight: 4, arbitrary: mutatedPayloads },
      {
        weight: 4,
        arbitrary: mutatedBytes(seeds, {
          tokens: [
            '"port": 1.5',
            '"port": -1',
            '"ttl": 1e400',
            "null",
            '"_reply_port": 0',
            "[",
            "{",
          ],
        }),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(
          fc.constantFrom(
            "FIND_NODE",
            "FIND_NODE_RESP",
            "GET_PROVIDERS",
            "GET_PROVIDERS_RESP",
            "PUT_PROVIDER",
          ),
          hostileJson(),
        )
          .map(([action, v]) => utf8(`${action}\0${jsonText(v)}`)),
      },
      { weight: 1, arbitrary: randomBytes() },
    ));
  },
  open: () => ({
    check({ data }) {
      const raw = text(data);
      const split = raw.indexOf("\0");
      const action = split < 0 ? "FIND_NODE" : raw.slice(0, split);
      const payload = split < 0 ? raw : raw.slice(split + 1);
      const rpc = attempt(
        () => decodeRpc(action, payload),
        [TypeError, RangeError, SyntaxError],
        "decodeRpc",
      );
      if (rpc === undefined) return;
      for (const n of intsOf(rpc)) {
        ensure(
          Number.isSafeInteger(n),
          `decodeRpc accepted ${n} where an integer belongs`,
        );
      }
      const encoded = encodeRpc(rpc);
      const again = attempt(
        () => decodeRpc(encoded.action, encoded.payload),
        [],
        "decodeRpc of encodeRpc",
      );
      ensure(
        JSON.stringify(again) === JSON.stringify(rpc),
        `decodeRpc → encodeRpc → decodeRpc changed a ${rpc.action}`,
      );
    },
  }),
};

/** The discovery layer's targets. */
export const DISCOVERY_TARGETS: readonly FuzzTarget[] = [
  skillSheet,
  kademliaRpc,
];
