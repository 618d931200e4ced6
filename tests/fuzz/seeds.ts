/** The real inputs fuzzing starts from: the vectors of tests/vectors/ and the keep spec. */
import { JsonFloat, parseJson } from "../../src/wire/mod.ts";
import { hexToBytes } from "../../src/util/mod.ts";
import {
  HEARTBEAT_FRAME_HEX,
  V1,
  V2,
  vectorFrame,
  vectorWire,
} from "../relay_vectors.ts";
import type { Json } from "./mutate_json.ts";
import { utf8 } from "./fuzz_target.ts";

function vector<T>(name: string): T {
  const url = new URL(`../vectors/${name}`, import.meta.url);
  return parseJson(Deno.readTextFileSync(url)) as T;
}

interface MessageVector {
  name: string;
  type: string;
  message: Json;
  wire_json: string;
}

interface Framing {
  frames: { frame_hex: string }[];
  oversize_header_hex: string;
  truncated_frame_hex: string;
}

/** The original's messages (messages.json): name, type, decoded message and wire text. */
export const MESSAGE_VECTORS: readonly MessageVector[] = vector<
  { vectors: MessageVector[] }
>("messages.json").vectors;

/** Wire bodies of every message vector and of the live session trace. */
export const MESSAGE_BODIES: readonly Uint8Array[] = MESSAGE_VECTORS.map((v) =>
  utf8(v.wire_json)
);

/** Whole frames of framing.json (valid, oversize header, truncated). */
export const FRAME_SEEDS: readonly Uint8Array[] = (() => {
  const f = vector<Framing>("framing.json");
  return [
    ...f.frames.map((x) => hexToBytes(x.frame_hex)),
    hexToBytes(f.oversize_header_hex),
    hexToBytes(f.truncated_frame_hex),
  ];
})();

/** Skill sheets found in the message vectors (ANNOUNCE, QUERY_RESPONSE, SYNC_RESPONSE). */
export const SHEET_SEEDS: readonly Json[] = (() => {
  const out: Json[] = [];
  const visit = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object" && !(v instanceof JsonFloat)) {
      for (const [k, x] of Object.entries(v)) {
        if (k === "skill_sheet") out.push(x);
        else visit(x);
      }
    }
  };
  MESSAGE_VECTORS.forEach((v) => visit(v.message));
  const trace = vector<{ query_results: Json[] }>("live_session_trace.json");
  visit(trace.query_results);
  return out;
})();

/** The keep spec's vectors: packets (V1, V2) and frames, the heartbeat frame. */
export const KEEP_PACKETS: readonly Uint8Array[] = [
  vectorWire(V1),
  vectorWire(V2),
];

/** Framed keep packets of the spec. */
export const KEEP_FRAMES: readonly Uint8Array[] = [
  vectorFrame(V1),
  vectorFrame(V2),
  hexToBytes(HEARTBEAT_FRAME_HEX),
  hexToBytes(V1.replyFrameHex),
  hexToBytes(V2.replyFrameHex),
];

interface SidecarAuth {
  timestamp: number;
  put: { request_head_as_sent_by_knarr_cli: string };
  get: { request_head_as_sent_by_knarr_cli: string };
}

/** The sidecar vectors' request heads (exact bytes of the original CLI) and their timestamp. */
export const SIDECAR_HEADS: { timestamp: number; heads: readonly string[] } =
  (() => {
    const v = vector<SidecarAuth>("sidecar_auth.json");
    return {
      timestamp: v.timestamp,
      heads: [
        v.put.request_head_as_sent_by_knarr_cli,
        v.get.request_head_as_sent_by_knarr_cli,
      ],
    };
  })();

/** A few text files of the repository, read relative to it. */
export function repoText(path: string): string {
  return Deno.readTextFileSync(new URL(`../../${path}`, import.meta.url));
}
