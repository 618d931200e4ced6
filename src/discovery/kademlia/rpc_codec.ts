/**
 * The `knarr-kademlia` plugin actions: payloads are JSON documents in a string, and a
 * `_request_id` pairs each reply with its request. Decoding checks every field and
 * throws (`SyntaxError`, `TypeError`, `RangeError`); callers drop what does not decode.
 */
import { isHex64 } from "../../util/mod.ts";

/** `plugin_name` of every Kademlia PLUGIN_MESSAGE. */
export const KADEMLIA_PLUGIN = "knarr-kademlia";
/** Longest payload string accepted. */
export const MAX_PAYLOAD_CHARS = 256 * 1024;
/** Most peers read from one reply (the rest are ignored). */
export const MAX_PEERS_PER_REPLY = 20;
/** Most provider records read from one reply (the rest are ignored). */
export const MAX_PROVIDERS_PER_REPLY = 100;

/** A node as FIND_NODE_RESP and GET_PROVIDERS_RESP list it. */
export interface WirePeer {
  nodeId: string;
  host: string;
  port: number;
}

/** A provider record as GET_PROVIDERS_RESP lists it. */
export interface WireProvider extends WirePeer {
  /** Asset sidecar port, 0 for none. */
  sidecarPort: number;
  /** Unix seconds when the holder stored it. */
  storedAt: number;
  /** Seconds it lives. */
  ttl: number;
  /** The canonical skill key. */
  skillKey: string;
  /** The provider's signature over the record (knarr); absent from original holders. */
  proof?: RecordProof;
}

/** A provider's signature over its record. */
export interface RecordProof {
  /** Provider public key (64 hex). */
  publicKey: string;
  /** Unix seconds (integer) when the provider signed it. */
  issuedAt: number;
  /** Ed25519 signature (128 hex). */
  signature: string;
}

/** A decoded Kademlia action; requests may name the port to reply to (`_reply_port`). */
export type KadRpc = KadRpcBody & { replyPort?: number };

/** The action-specific part of a {@linkcode KadRpc}. */
export type KadRpcBody =
  | { action: "FIND_NODE"; requestId: string; target: string }
  | {
    action: "FIND_NODE_RESP";
    requestId: string;
    peers: WirePeer[];
  }
  | { action: "GET_PROVIDERS"; requestId: string; skillKey: string }
  | {
    action: "GET_PROVIDERS_RESP";
    requestId: string;
    providers: WireProvider[];
    closerPeers: WirePeer[];
    token: string;
  }
  | {
    action: "PUT_PROVIDER";
    requestId: string;
    skillKey: string;
    sidecarPort: number;
    token: string;
    proof?: RecordProof;
  };

/** The actions that are requests (answered) rather than replies. */
export type KadRequest = Extract<
  KadRpc,
  { action: "FIND_NODE" | "GET_PROVIDERS" | "PUT_PROVIDER" }
>;
/** The actions that are replies. */
export type KadResponse = Extract<
  KadRpc,
  { action: "FIND_NODE_RESP" | "GET_PROVIDERS_RESP" }
>;

type Obj = Record<string, unknown>;

function str(o: Obj, key: string, max = 1024, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== "string") {
    throw new TypeError(
      `Cannot decode Kademlia payload: "${key}" must be a string`,
    );
  }
  if (v.length > max) {
    throw new RangeError(
      `Cannot decode Kademlia payload: "${key}" exceeds ${max} characters`,
    );
  }
  return v;
}

function int(o: Obj, key: string, min: number, max: number, fallback?: number) {
  const v = o[key] ?? fallback;
  // Ports, seconds and timestamps are whole: a peer's 80.5 would be stored and dialed.
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(
      `Cannot decode Kademlia payload: "${key}" must be an integer in ${min}…${max}`,
    );
  }
  return v;
}

/** Unix seconds, which may have a fraction (a holder's `stored_at` is its clock's). */
function seconds(o: Obj, key: string, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1e11) {
    throw new TypeError(
      `Cannot decode Kademlia payload: "${key}" must be unix seconds`,
    );
  }
  return v;
}

function hex64(o: Obj, key: string): string {
  const v = o[key];
  if (!isHex64(v)) {
    throw new TypeError(
      `Cannot decode Kademlia payload: "${key}" must be 64 lowercase hex characters`,
    );
  }
  return v;
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function peer(v: unknown): WirePeer | null {
  if (!isObj(v)) return null;
  try {
    const host = str(v, "host", 255);
    if (host === "") return null;
    return {
      nodeId: hex64(v, "node_id"),
      host,
      port: int(v, "port", 1, 65535),
    };
  } catch {
    return null;
  }
}

function proof(v: Obj): RecordProof | undefined {
  if (v.signature === undefined) return undefined;
  const signature = str(v, "signature", 128);
  if (!/^[0-9a-f]{128}$/.test(signature)) {
    throw new TypeError(
      'Cannot decode Kademlia payload: "signature" must be 128 hex characters',
    );
  }
  return {
    publicKey: hex64(v, "public_key"),
    issuedAt: int(v, "issued_at", 0, 1e11),
    signature,
  };
}

function provider(v: unknown): WireProvider | null {
  const p = peer(v);
  if (!p || !isObj(v)) return null;
  try {
    const record: WireProvider = {
      ...p,
      sidecarPort: int(v, "sidecar_port", 0, 65535, 0),
      storedAt: seconds(v, "stored_at", 0),
      ttl: int(v, "ttl", 0, 86_400, 1800),
      skillKey: str(v, "skill_key", 256, ""),
    };
    const pr = proof(v);
    if (pr) record.proof = pr;
    return record;
  } catch {
    return null;
  }
}

function list<T>(v: unknown, max: number, item: (x: unknown) => T | null): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    throw new TypeError("Cannot decode Kademlia payload: expected a list");
  }
  const out: T[] = [];
  for (const x of v.slice(0, max)) {
    const decoded = item(x);
    if (decoded) out.push(decoded);
  }
  return out;
}

/** Decodes an action and its payload string. */
export function decodeRpc(action: string, payload: string): KadRpc {
  if (payload.length > MAX_PAYLOAD_CHARS) {
    throw new RangeError(
      `Cannot decode Kademlia "${action}": payload of ${payload.length} characters exceeds ${MAX_PAYLOAD_CHARS}`,
    );
  }
  let o: unknown;
  try {
    o = JSON.parse(payload);
  } catch (cause) {
    throw new SyntaxError(
      `Cannot decode Kademlia "${action}": payload is not JSON`,
      {
        cause,
      },
    );
  }
  if (!isObj(o)) {
    throw new TypeError(
      `Cannot decode Kademlia "${action}": payload must be an object`,
    );
  }
  const rpc = decodeBody(action, o);
  const rp = o._reply_port;
  if (Number.isInteger(rp) && (rp as number) >= 1 && (rp as number) <= 65535) {
    rpc.replyPort = rp as number;
  }
  return rpc;
}

function decodeBody(action: string, o: Obj): KadRpc {
  const requestId = str(o, "_request_id", 128);
  switch (action) {
    case "FIND_NODE":
      return { action, requestId, target: hex64(o, "target") };
    case "FIND_NODE_RESP":
      return {
        action,
        requestId,
        peers: list(o.peers, MAX_PEERS_PER_REPLY, peer),
      };
    case "GET_PROVIDERS":
      return { action, requestId, skillKey: str(o, "skill_key", 256) };
    case "GET_PROVIDERS_RESP":
      return {
        action,
        requestId,
        providers: list(o.providers, MAX_PROVIDERS_PER_REPLY, provider),
        closerPeers: list(o.closer_peers, MAX_PEERS_PER_REPLY, peer),
        token: str(o, "token", 128, ""),
      };
    case "PUT_PROVIDER": {
      const rpc: KadRpc = {
        action,
        requestId,
        skillKey: str(o, "skill_key", 256),
        sidecarPort: int(o, "sidecar_port", 0, 65535, 0),
        token: str(o, "token", 128, ""),
      };
      const pr = proof(o);
      if (pr) rpc.proof = pr;
      return rpc;
    }
    default:
      throw new TypeError(
        `Cannot decode Kademlia action "${action}": unknown action`,
      );
  }
}

function wirePeer(p: WirePeer): Obj {
  return { node_id: p.nodeId, host: p.host, port: p.port };
}

function wireProof(p: RecordProof | undefined): Obj {
  return p
    ? { public_key: p.publicKey, issued_at: p.issuedAt, signature: p.signature }
    : {};
}

/** Encodes an action as the PLUGIN_MESSAGE `action` and `payload` strings. */
export function encodeRpc(rpc: KadRpc): { action: string; payload: string } {
  let body: Obj;
  switch (rpc.action) {
    case "FIND_NODE":
      body = { target: rpc.target };
      break;
    case "FIND_NODE_RESP":
      body = { peers: rpc.peers.map(wirePeer) };
      break;
    case "GET_PROVIDERS":
      body = { skill_key: rpc.skillKey };
      break;
    case "GET_PROVIDERS_RESP":
      body = {
        providers: rpc.providers.map((p) => ({
          ...wirePeer(p),
          sidecar_port: p.sidecarPort,
          stored_at: p.storedAt,
          ttl: p.ttl,
          skill_key: p.skillKey,
          ...wireProof(p.proof),
        })),
        closer_peers: rpc.closerPeers.map(wirePeer),
        token: rpc.token,
      };
      break;
    case "PUT_PROVIDER":
      body = {
        skill_key: rpc.skillKey,
        sidecar_port: rpc.sidecarPort,
        token: rpc.token,
        ...wireProof(rpc.proof),
      };
      break;
  }
  return {
    action: rpc.action,
    payload: JSON.stringify({
      ...body,
      _request_id: rpc.requestId,
      ...(rpc.replyPort ? { _reply_port: rpc.replyPort } : {}),
    }),
  };
}
