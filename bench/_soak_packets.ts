/**
 * The packets of the relay soak, signed before the timed window: every agent's key, its
 * registration, and one frame per message (unique id), all frames the same length so that
 * message `k` sits at `k × frameBytes` in one buffer. Message `k` is sent by agent `k % agents`
 * as its message number `⌊k / agents⌋`, at `k / (agents × rate)` seconds into the window.
 */
import { createPrivateKey, generateKeyPairSync, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { createPacket, signedPayload } from "../src/relay/mod.ts";

/** What the soak sends. */
export interface SoakPlanOptions {
  /** Connected agents. */
  agents: number;
  /** Messages per second per agent. */
  rate: number;
  /** Length of the sending window, seconds. */
  seconds: number;
  /** Bytes of each message body. */
  bodyBytes: number;
  /** Seed of the destination choice (a run is reproducible). */
  seed: number;
}

/** One agent's key and the fixed parts of its packets. */
export interface SoakKey {
  key: KeyObject;
  /** The `1220` + 32-byte `pk` field. */
  pkField: Uint8Array;
}

/** Every pre-signed frame of a soak. */
export interface SoakPlan extends SoakPlanOptions {
  /** Messages in the window: agents × round(rate × seconds). */
  total: number;
  /** Length of every message frame, length prefix included. */
  frameBytes: number;
  /** Message frames, `total × frameBytes` bytes. */
  frames: Uint8Array;
  /** Destination agent of each message. */
  dst: Uint32Array;
  /** Registration frame of each agent (`dst: "server"`, id `r<agent>`). */
  registrations: Uint8Array[];
  /** The control connection's `discover:metrics` request. */
  metricsRequest: Uint8Array;
  /** Digits of the agent number in names and ids. */
  agentDigits: number;
  /** Digits of the message number in ids. */
  seqDigits: number;
}

const SIG_FIELD = 2 + 64;
const PK_FIELD = 2 + 32;
const ENCODER = new TextEncoder();

/** The identity of agent `i` (`bot:soak-00042`). */
export function agentName(i: number, digits: number): string {
  return `bot:soak-${String(i).padStart(digits, "0")}`;
}

function newKey(): SoakKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  const raw = Uint8Array.from(
    atob(x.replace(/-/g, "+").replace(/_/g, "/") + "="),
    (c) => c.charCodeAt(0),
  );
  const pkField = new Uint8Array(PK_FIELD);
  pkField.set([0x12, 0x20]);
  pkField.set(raw, 2);
  // A fresh key object: the exported one stays tied to generateKeyPairSync's pair.
  const key = createPrivateKey(
    privateKey.export({ format: "pem", type: "pkcs8" }),
  );
  return { key, pkField };
}

/** Signs `payload` (already at the end of `frame`) and writes the header, signature and key. */
function sealFrame(
  frame: Uint8Array,
  payloadAt: number,
  payloadLength: number,
  key: SoakKey,
): void {
  const length = SIG_FIELD + PK_FIELD + payloadLength;
  new DataView(frame.buffer, frame.byteOffset).setUint32(0, length);
  frame[4] = 0x0a;
  frame[5] = 64;
  const payload = frame.subarray(payloadAt, payloadAt + payloadLength);
  frame.set(sign(null, payload, key.key), 6);
  frame.set(key.pkField, 4 + SIG_FIELD);
}

function signedFrame(init: Parameters<typeof createPacket>[0], key: SoakKey) {
  const payload = signedPayload(createPacket({ ttl: 60, ...init }));
  const frame = new Uint8Array(4 + SIG_FIELD + PK_FIELD + payload.length);
  frame.set(payload, frame.length - payload.length);
  sealFrame(frame, frame.length - payload.length, payload.length, key);
  return frame;
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeDigits(
  bytes: Uint8Array,
  at: number,
  value: number,
  digits: number,
): void {
  for (let i = digits - 1; i >= 0; i--) {
    bytes[at + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  throw new Error("Cannot build the soak packets: template field not found");
}

/**
 * Generates the keys and signs every packet of the plan; `onProgress` hears the share done.
 * Each agent sends to uniformly random other agents.
 */
export function buildPlan(
  options: SoakPlanOptions,
  onProgress: (done: number) => void = () => {},
): SoakPlan {
  const { agents, rate, seconds, bodyBytes } = options;
  if (agents < 2) {
    throw new RangeError(`Cannot plan a soak: ${agents} agents, at least 2`);
  }
  // Rates below 1 or fractional: each agent sends rate × seconds messages, rounded.
  const perAgent = Math.round(rate * seconds);
  const total = agents * perAgent;
  const agentDigits = String(agents - 1).length;
  const seqDigits = String(Math.max(1, perAgent - 1)).length;
  const keys = Array.from({ length: agents }, newKey);
  // A template payload: the canonical encoding, digits patched in place per message.
  const zeroAgent = "0".repeat(agentDigits);
  const zeroSeq = "9".repeat(seqDigits);
  const template = signedPayload(createPacket({
    id: `${zeroAgent}.${zeroSeq}`,
    src: agentName(0, agentDigits),
    dst: `bot:soak-${"8".repeat(agentDigits)}`,
    body: "x".repeat(bodyBytes),
    ttl: 60,
  }));
  const idAt = indexOf(template, ENCODER.encode(`${zeroAgent}.${zeroSeq}`));
  const srcAt = indexOf(template, ENCODER.encode(agentName(0, agentDigits))) +
    "bot:soak-".length;
  const dstAt = indexOf(template, ENCODER.encode("8".repeat(agentDigits)));
  const payloadAt = 4 + SIG_FIELD + PK_FIELD;
  const frameBytes = payloadAt + template.length;
  const frames = new Uint8Array(total * frameBytes);
  const dst = new Uint32Array(total);
  const next = random(options.seed);
  for (let k = 0; k < total; k++) {
    const agent = k % agents;
    let to = Math.floor(next() * (agents - 1));
    if (to >= agent) to++;
    dst[k] = to;
    const frame = frames.subarray(k * frameBytes, (k + 1) * frameBytes);
    frame.set(template, payloadAt);
    writeDigits(frame, payloadAt + idAt, agent, agentDigits);
    writeDigits(
      frame,
      payloadAt + idAt + agentDigits + 1,
      Math.floor(k / agents),
      seqDigits,
    );
    writeDigits(frame, payloadAt + srcAt, agent, agentDigits);
    writeDigits(frame, payloadAt + dstAt, to, agentDigits);
    sealFrame(frame, payloadAt, template.length, keys[agent]!);
    if (k % 65_536 === 0) onProgress(k / total);
  }
  const registrations = keys.map((key, i) =>
    signedFrame({
      id: `r${String(i).padStart(agentDigits, "0")}`,
      src: agentName(i, agentDigits),
      dst: "server",
    }, key)
  );
  const metricsRequest = signedFrame(
    { id: "m", src: "bot:soak-control", dst: "discover:metrics" },
    newKey(),
  );
  return {
    ...options,
    total,
    frameBytes,
    frames,
    dst,
    registrations,
    metricsRequest,
    agentDigits,
    seqDigits,
  };
}
