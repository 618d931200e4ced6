/** Throughput of the wire layer's hot paths: `deno bench -A src/wire/wire_bench.ts`. */
import { Identity } from "../crypto/mod.ts";
import { hexToBytes } from "../util/mod.ts";
import { canonicalJson, pythonWireJson } from "./canonical_json.ts";
import { decodeMessage, encodeMessageFrame } from "./codec.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { parseJson } from "./json_parse.ts";
import type { MessageFields } from "./messages.ts";
import { signMessage, verifyMessage } from "./sign.ts";
import { JsonFloat } from "./json_value.ts";
import { readLosslessVector } from "./_test_vectors.ts";

interface MessageVectors {
  vectors: { name: string; wire_json: string }[];
}
const { vectors } = readLosslessVector<MessageVectors>("messages.json");
const wire = (name: string) => vectors.find((v) => v.name === name)!.wire_json;

const identity = await Identity.fromSeed(
  hexToBytes(
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
  ),
);
const announceText = wire("announce");
const taskText = wire("task_request_unicode_async");
const announce = decodeMessage(announceText);
const task = decodeMessage(taskText);
const {
  type: _a,
  msg_id: _b,
  public_key: _c,
  signature: _d,
  ...announceFields
} = announce;
const { type: _e, msg_id: _f, public_key: _g, signature: _h, ...taskFields } =
  task;
const encoder = new TextEncoder();
const announceBytes = encoder.encode(announceText);
const frames = new Uint8Array(
  Array.from({ length: 100 }, () => [...encodeFrame(announceBytes)]).flat(),
);

// The design parseJson replaced, kept here to show the measurement.
function revive(_key: string, value: unknown, context?: { source?: string }) {
  if (typeof value !== "number") return value;
  const source = context?.source ?? "";
  if (/[.eE]/.test(source)) {
    return Number.isInteger(value) ? new JsonFloat(value) : value;
  }
  return Number.isSafeInteger(value) ? value : BigInt(source);
}

Deno.bench("canonicalJson ANNOUNCE", { group: "canonical" }, () => {
  canonicalJson(announce);
});
Deno.bench("canonicalJson TASK_REQUEST", { group: "canonical" }, () => {
  canonicalJson(task);
});
Deno.bench("pythonWireJson ANNOUNCE", { group: "canonical" }, () => {
  pythonWireJson(announce);
});
Deno.bench(
  "JSON.stringify ANNOUNCE (reference)",
  { group: "canonical" },
  () => {
    JSON.stringify(announce);
  },
);

Deno.bench("signMessage ANNOUNCE", { group: "sign" }, async () => {
  await signMessage(
    "ANNOUNCE",
    announceFields as MessageFields<"ANNOUNCE">,
    identity,
  );
});
Deno.bench("signMessage TASK_REQUEST", { group: "sign" }, async () => {
  await signMessage(
    "TASK_REQUEST",
    taskFields as MessageFields<"TASK_REQUEST">,
    identity,
  );
});
Deno.bench("verifyMessage ANNOUNCE", { group: "verify" }, async () => {
  await verifyMessage(announce);
});
Deno.bench("verifyMessage TASK_REQUEST", { group: "verify" }, async () => {
  await verifyMessage(task);
});
Deno.bench("decode + verify ANNOUNCE bytes", { group: "verify" }, async () => {
  await verifyMessage(decodeMessage(announceBytes));
});

Deno.bench("JSON.parse ANNOUNCE (baseline)", {
  group: "parse",
  baseline: true,
}, () => {
  JSON.parse(announceText);
});
Deno.bench("parseJson ANNOUNCE", { group: "parse" }, () => {
  parseJson(announceText);
});
Deno.bench("JSON.parse + source-text reviver ANNOUNCE (rejected design)", {
  group: "parse",
}, () => {
  JSON.parse(announceText, revive as never);
});
Deno.bench("JSON.parse TASK_REQUEST", { group: "parse" }, () => {
  JSON.parse(taskText);
});
Deno.bench("parseJson TASK_REQUEST", { group: "parse" }, () => {
  parseJson(taskText);
});
Deno.bench("JSON.parse + source-text reviver TASK_REQUEST", {
  group: "parse",
}, () => {
  JSON.parse(taskText, revive as never);
});
Deno.bench("parseJson ANNOUNCE bytes (UTF-8 decode included)", {
  group: "parse",
}, () => {
  parseJson(announceBytes);
});

Deno.bench("encodeMessageFrame ANNOUNCE", { group: "frame" }, () => {
  encodeMessageFrame(announce);
});
Deno.bench("FrameDecoder 100 ANNOUNCE frames in 1 KiB chunks", {
  group: "frame",
}, () => {
  const decoder = new FrameDecoder();
  for (let i = 0; i < frames.length; i += 1024) {
    decoder.push(frames.subarray(i, i + 1024));
    while (decoder.next() !== undefined);
  }
});
