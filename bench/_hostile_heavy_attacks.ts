/**
 * The hostile-peers benchmark's heavy messages: well-formed JSON frames of 64 KiB, 256 KiB and
 * 1 MiB (the protocol's largest) shaped to cost the most to decode and verify (many small arrays
 * or objects, escaped and raw non-ASCII text, runs of big integers, one huge integer, nesting
 * 900 deep), carried by QUERY, HEARTBEAT, ANNOUNCE, TASK_REQUEST (for the node's own echo skill),
 * a pushed TASK_RESULT and a Kademlia PLUGIN_MESSAGE, each validly signed, with a forged
 * signature, or unsigned, from 16 addresses (127.0.8.x).
 */
import { Identity } from "../src/crypto/mod.ts";
import {
  encodeMessage,
  JsonFloat,
  parseJson,
  signMessage,
} from "../src/wire/mod.ts";
import type { JsonValue, MessageFields, MessageType } from "../src/wire/mod.ts";
import { Pacer, probe, sheet, Tally } from "./_hostile_node_attacks.ts";
import type { AttackContext } from "./_hostile_node_attacks.ts";
import { frameOf, loops, sources } from "./_hostile_raw.ts";
import type { AttackCounts } from "./_hostile_raw.ts";

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).length;

/** Frame body sizes: 64 KiB, 256 KiB and exactly 1 MiB. */
export const HEAVY_SIZES = [65_536, 262_144, 1_048_576];

/** JSON text of `unit` repeated inside `[` `]` until it is about `bytes` long (never longer). */
function repeated(unit: string, bytes: number): string {
  const n = Math.max(1, Math.floor((bytes - 2) / (byteLength(unit) + 1)));
  return "[" + Array(n).fill(unit).join(",") + "]";
}

/** Expensive JSON values by shape, each at most `bytes` long (UTF-8). */
export const HEAVY_SHAPES: Record<string, (bytes: number) => string> = {
  // One array per 4 bytes: the allocation-bound worst case of any JSON parser.
  arrays: (bytes) => repeated("[1]", bytes),
  objects: (bytes) => repeated('{"a":1.5}', bytes),
  // Escapes (\u, surrogate pairs, \n) and raw non-ASCII: parsed one by one, re-escaped
  // (6 bytes each) for the signing string.
  escaped: (bytes) => {
    const unit = "\\u00e9\\u4e2d\\ud83d\\ude00\\n\u00e9\u4e2d";
    const n = Math.floor((bytes - 2) / byteLength(unit));
    return '"' + unit.repeat(n) + '"';
  },
  // Integers past 2^53: each becomes a bigint.
  bigints: (bytes) => repeated("123456789012345678901", bytes),
  // One integer of every digit there is room for (quadratic in a naive bigint conversion).
  longint: (bytes) => "7".repeat(bytes - 2),
  // Arrays nested 900 deep (within the 1,000 levels allowed, wrapping included).
  deep: (bytes) => repeated("[".repeat(900) + "1" + "]".repeat(900), bytes),
};

/** How a heavy value rides in a message: its type, its fields, and where the junk goes. */
interface Carrier {
  type: MessageType;
  fields: (identity: Identity, junk: JsonValue) => Record<string, JsonValue>;
  /** The junk rides in a signed field (the signature covers it) rather than an unknown key. */
  signedJunk: boolean;
}

const CARRIERS: Record<string, Carrier> = {
  QUERY: {
    type: "QUERY",
    fields: () => ({ query_type: "name", value: "echo" }),
    signedJunk: false,
  },
  HEARTBEAT: {
    type: "HEARTBEAT",
    fields: (id) => ({ node_id: id.nodeId, timestamp: 1.5 }),
    signedJunk: false,
  },
  ANNOUNCE: {
    type: "ANNOUNCE",
    fields: (id, junk) => ({
      node_id: id.nodeId,
      skill_key: "heavy",
      skill_sheet: { ...sheet("heavy"), junk },
    }),
    signedJunk: true,
  },
  TASK_REQUEST: {
    type: "TASK_REQUEST",
    fields: (id, junk) => ({
      task_id: crypto.randomUUID(),
      requester_node_id: id.nodeId,
      requester_host: "127.0.8.1",
      requester_port: 9,
      skill_name: "echo",
      input_data: { text: "heavy", junk },
    }),
    signedJunk: true,
  },
  TASK_RESULT: {
    type: "TASK_RESULT",
    fields: (_id, junk) => ({
      task_id: crypto.randomUUID(),
      status: "completed",
      output_data: { junk },
    }),
    signedJunk: true,
  },
  PLUGIN_MESSAGE: {
    type: "PLUGIN_MESSAGE",
    fields: (id, junk) => ({
      node_id: id.nodeId,
      plugin_name: "knarr-kademlia",
      action: "FIND_NODE",
      // The junk's text as the payload string: its quotes escaped once more.
      payload: junk,
    }),
    signedJunk: true,
  },
};

/** Signing variants: valid, a forged signature (costs a full verification), none at all. */
const VARIANTS = ["signed", "forged", "unsigned"] as const;
type Variant = typeof VARIANTS[number];

const PLACEHOLDER = "\u0000heavy-junk\u0000";
const PLACEHOLDER_TEXT = JSON.stringify(PLACEHOLDER);

/** `value` with the placeholder string replaced by `junk` (small objects only). */
function withJunk(value: JsonValue, junk: JsonValue): JsonValue {
  if (value === PLACEHOLDER) return junk;
  if (Array.isArray(value)) return value.map((v) => withJunk(v, junk));
  if (
    typeof value === "object" && value !== null && !(value instanceof JsonFloat)
  ) {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = withJunk(v as JsonValue, junk);
    }
    return out;
  }
  return value;
}

/** The junk's JSON text and value for `shape`, at most `bytes` long. */
function junkOf(shape: string, bytes: number, asString: boolean) {
  let text = HEAVY_SHAPES[shape]!(asString ? bytes >> 1 : bytes);
  if (asString && !text.startsWith('"')) text = JSON.stringify(text);
  // Decoded only to sign it. A huge integer is built directly (a JSON parser may refuse it).
  const value = (): JsonValue =>
    shape === "longint" && !asString ? BigInt(text) : parseJson(text);
  return { text, value };
}

/**
 * One heavy frame body of exactly `size` bytes (the junk as long as fits, then spaces): the
 * carrier's message with `shape`'s junk spliced into it as raw text. Only a "signed" message
 * with the junk in a signed field costs a real signature over the junk.
 */
export async function heavyBody(
  identity: Identity,
  carrierName: string,
  shape: string,
  size: number,
  variant: Variant,
): Promise<Uint8Array> {
  const carrier = CARRIERS[carrierName]!;
  const type = carrier.type;
  const sign = async (fields: Record<string, JsonValue>) =>
    await signMessage(
      type,
      fields as unknown as MessageFields<typeof type>,
      identity,
    ) as unknown as Record<string, JsonValue>;
  const base = carrier.fields(identity, PLACEHOLDER);
  const placed = await sign(base);
  if (!carrier.signedJunk) placed.x = PLACEHOLDER;
  const envelopeBytes = encodeMessage(placed).length -
    byteLength(PLACEHOLDER_TEXT);
  const junk = junkOf(
    shape,
    size - envelopeBytes - 16,
    carrierName === "PLUGIN_MESSAGE",
  );
  if (variant === "signed" && carrier.signedJunk) {
    const real = await sign(
      withJunk(base, junk.value()) as Record<string, JsonValue>,
    );
    placed.msg_id = real.msg_id!;
    placed.signature = real.signature!;
  } else if (variant === "forged") {
    placed.signature = "ab".repeat(64);
  } else if (variant === "unsigned") {
    placed.signature = "";
    placed.public_key = "";
  }
  const text = new TextDecoder().decode(encodeMessage(placed))
    .replace(PLACEHOLDER_TEXT, () => junk.text);
  const bytes = encoder.encode(text);
  if (bytes.length > size) {
    throw new Error(
      `Cannot build a heavy ${carrierName}/${shape}: ${bytes.length} bytes, more than ${size}`,
    );
  }
  // Trailing whitespace up to the exact size (still valid JSON).
  const body = new Uint8Array(size).fill(0x20);
  body.set(bytes);
  return body;
}

/** Heavy messages of every carrier, shape, size and signing variant, in turn. */
async function heavyMessages(ctx: AttackContext): Promise<AttackCounts> {
  const identity = await Identity.generate();
  const tally = new Tally();
  const pacer = new Pacer(ctx.rate);
  const addresses = sources(8, 16);
  const plan: [string, string, number, Variant][] = [];
  for (const size of HEAVY_SIZES) {
    for (const shape of Object.keys(HEAVY_SHAPES)) {
      for (const carrier of Object.keys(CARRIERS)) {
        for (const variant of VARIANTS) {
          plan.push([carrier, shape, size, variant]);
        }
      }
    }
  }
  // Interleave sizes, shapes and carriers; frames are made once and sent again when the
  // plan comes round (a replayed TASK_REQUEST costs the same decoding and verification).
  plan.sort(() => Math.random() - 0.5);
  const made = new Map<number, Promise<Uint8Array>>();
  const frameOfPlan = (k: number) => {
    let frame = made.get(k);
    if (frame === undefined) {
      const [carrier, shape, size, variant] = plan[k]!;
      frame = heavyBody(identity, carrier, shape, size, variant).then(frameOf);
      made.set(k, frame);
    }
    return frame;
  };
  const served = new Map<string, number>();
  let bytes = 0;
  let i = 0;
  await loops(16, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const n = i++;
    const k = n % plan.length;
    const frame = await frameOfPlan(k);
    bytes += frame.length;
    const seen = await probe(ctx, addresses[n % addresses.length]!, frame);
    tally.see(seen, (m) => m.status !== "completed" && m.status !== "ok");
    if (
      seen.kind === "reply" &&
      (seen.message.status === "completed" || seen.message.status === "ok")
    ) {
      const [carrier, shape, size] = plan[k]!;
      const key = `${carrier}/${shape}/${size >> 10}K`;
      served.set(key, (served.get(key) ?? 0) + 1);
    }
  });
  const servedText = [...served].map(([k, v]) => `${v} ${k}`).join(", ");
  return tally.counts(
    `heavy frames (64 KiB/256 KiB/1 MiB; arrays, objects, escapes, bigints, a long integer, ` +
      `900-deep nesting; in QUERY, HEARTBEAT, ANNOUNCE, TASK_REQUEST echo, TASK_RESULT, ` +
      `Kademlia PLUGIN_MESSAGE; signed, forged, unsigned) from 16 addresses, ${
        (bytes / 1_048_576).toFixed(0)
      } MiB in all (rejected = closed, or an error reply); served: ${
        servedText || "none"
      }`,
  );
}

/** The heavy-message attacks by name. */
export const HEAVY_ATTACKS: Record<
  string,
  (ctx: AttackContext) => Promise<AttackCounts>
> = {
  "heavy-messages": heavyMessages,
};
