/** Signing strings, signing and verification of knarr messages. */
import { nodeIdOf, verifyHex } from "../crypto/mod.ts";
import { canonicalJson } from "./canonical_json.ts";
import { float, isJsonObject } from "./json_value.ts";
import {
  defaultOf,
  type FieldSpec,
  isMessageType,
  isToleratedUnknownType,
  MESSAGE_FIELDS,
  SIGNATURE_EXCLUDED_FIELDS,
} from "./message_fields.ts";
import type {
  Message,
  MessageFields,
  MessageOf,
  MessageType,
} from "./messages.ts";
import { describeKind, matchesKind } from "./_field_check.ts";

const encoder = new TextEncoder();
const HEX_64_RE = /^[0-9a-fA-F]{64}$/;
const HEX_128_RE = /^[0-9a-fA-F]{128}$/;

const SIGNED_FIELDS = new Map<string, readonly FieldSpec[]>(
  Object.entries(MESSAGE_FIELDS).map(([type, specs]) => [
    type,
    specs.filter((f) => !SIGNATURE_EXCLUDED_FIELDS.has(f.name)),
  ]),
);
const NODE_ID_TYPES = new Set(
  Object.entries(MESSAGE_FIELDS)
    .filter(([, specs]) => specs.some((f) => f.name === "node_id"))
    .map(([type]) => type),
);

function fieldValue(msg: Readonly<Record<string, unknown>>, spec: FieldSpec) {
  const value = Object.hasOwn(msg, spec.name) ? msg[spec.name] : undefined;
  return value === undefined ? defaultOf(spec) : value;
}

/** What signs a message: an `Identity` of the crypto layer, or a test double. */
export interface Signer {
  /** Raw public key as 64 lowercase hex characters. */
  readonly publicKey: string;
  /** Signs bytes; returns the signature as 128 lowercase hex characters. */
  sign(data: Uint8Array): Promise<string>;
}

/**
 * The canonical string a message's signature covers: the type's own fields
 * (defaults for missing ones, unknown keys dropped), `signature` "", the
 * excluded fields removed, as Python-canonical JSON. Throws `TypeError` for
 * an unknown type or a missing `msg_id` or `public_key`.
 *
 * @example
 * ```ts
 * import { signingString } from "./mod.ts";
 * signingString({ type: "QUERY", msg_id: "m", public_key: "k", query_type: "all" });
 * // '{"msg_id":"m","public_key":"k","query_type":"all","signature":"","type":"QUERY","value":""}'
 * ```
 */
export function signingString(
  message: Message | Readonly<Record<string, unknown>>,
): string {
  const msg = message as Readonly<Record<string, unknown>>;
  const type = msg.type;
  if (typeof type !== "string" || !isMessageType(type)) {
    throw new TypeError(
      `Cannot build signing string: unknown message type "${String(type)}"`,
    );
  }
  for (const key of ["msg_id", "public_key"]) {
    if (typeof msg[key] !== "string") {
      throw new TypeError(
        `Cannot build signing string for "${type}": "${key}" is not a string`,
      );
    }
  }
  const d: Record<string, unknown> = {
    type,
    msg_id: msg.msg_id,
    public_key: msg.public_key,
    signature: "",
  };
  for (const spec of SIGNED_FIELDS.get(type)!) {
    d[spec.name] = fieldValue(msg, spec);
  }
  return canonicalJson(d);
}

/** Options for {@linkcode signMessage}. */
export interface SignMessageOptions {
  /** The msg_id; replies such as ACK reuse the request's. Default: a fresh uuid4. */
  msgId?: string;
}

/**
 * Builds and signs a message ready for the wire: envelope, then every field
 * of the type in wire order (defaults for missing ones). Float fields given as
 * numbers become Python floats. Throws `TypeError` on an unknown field or a
 * value of the wrong kind.
 *
 * @example
 * ```ts
 * import { Identity } from "../crypto/mod.ts";
 * import { signMessage } from "./mod.ts";
 * const me = await Identity.generate();
 * const hb = await signMessage("HEARTBEAT", { node_id: me.nodeId, timestamp: 1700000000 }, me);
 * ```
 */
export async function signMessage<T extends MessageType>(
  type: T,
  fields: MessageFields<T>,
  signer: Signer,
  options: SignMessageOptions = {},
): Promise<MessageOf<T>> {
  const specs = MESSAGE_FIELDS[type];
  const given = fields as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!specs.some((f) => f.name === key)) {
      throw new TypeError(`Cannot sign "${type}": unknown field "${key}"`);
    }
  }
  const msg: Record<string, unknown> = {
    type,
    msg_id: options.msgId ?? crypto.randomUUID(),
    public_key: signer.publicKey,
    signature: "",
  };
  for (const spec of specs) {
    let value = fieldValue(given, spec);
    if (spec.kind === "float" && typeof value === "number") {
      value = float(value);
    }
    if (!matchesKind(spec.kind, value)) {
      throw new TypeError(
        `Cannot sign "${type}": field "${spec.name}" must be ${
          describeKind(spec.kind)
        }`,
      );
    }
    msg[spec.name] = value;
  }
  msg.signature = await signer.sign(encoder.encode(signingString(msg)));
  return msg as unknown as MessageOf<T>;
}

/** Why a message failed verification. */
export type InvalidReason =
  | "malformed"
  | "unknown type"
  | "unsigned"
  | "bad signature"
  | "node_id mismatch";

/**
 * The outcome of {@linkcode verifyMessage}: `ok` with the typed message,
 * `unverifiable` for a tolerated type without a field list (ignore it), or
 * `invalid` (no reply; close the connection).
 */
export type VerifyResult =
  | { readonly status: "ok"; readonly message: Message }
  | { readonly status: "unverifiable"; readonly type: string }
  | {
    readonly status: "invalid";
    readonly reason: InvalidReason;
    readonly detail: string;
  };

function invalid(reason: InvalidReason, detail: string): VerifyResult {
  return { status: "invalid", reason, detail };
}

/**
 * Verifies a decoded message as the original does: rebuilds it from the
 * type's field list, checks the Ed25519 signature, and checks that `node_id`
 * (where the type has one) is the SHA-256 of `public_key`. Never throws.
 *
 * @example
 * ```ts
 * import { decodeMessage, verifyMessage } from "./mod.ts";
 * declare const body: Uint8Array;
 * const result = await verifyMessage(decodeMessage(body));
 * if (result.status === "ok" && result.message.type === "ANNOUNCE") {
 *   result.message.skill_sheet;
 * }
 * ```
 */
export async function verifyMessage(msg: unknown): Promise<VerifyResult> {
  if (!isJsonObject(msg) || typeof msg.type !== "string") {
    return invalid("malformed", "not an object with a string type");
  }
  const type = msg.type;
  if (!isMessageType(type)) {
    return isToleratedUnknownType(type)
      ? { status: "unverifiable", type }
      : invalid("unknown type", `unknown message type "${type}"`);
  }
  const { msg_id, public_key, signature } = msg;
  if (!public_key || !signature) {
    return invalid("unsigned", "public_key or signature is empty");
  }
  if (typeof public_key !== "string" || !HEX_64_RE.test(public_key)) {
    return invalid("malformed", "public_key is not 64 hex characters");
  }
  if (typeof signature !== "string" || !HEX_128_RE.test(signature)) {
    return invalid("malformed", "signature is not 128 hex characters");
  }
  if (typeof msg_id !== "string") {
    return invalid("malformed", "msg_id is not a string");
  }
  const typed: Record<string, unknown> = {
    type,
    msg_id,
    public_key,
    signature,
  };
  for (const spec of MESSAGE_FIELDS[type]) {
    const value = fieldValue(msg, spec);
    if (!matchesKind(spec.kind, value)) {
      return invalid(
        "malformed",
        `field "${spec.name}" is not ${describeKind(spec.kind)}`,
      );
    }
    typed[spec.name] = value;
  }
  let data: Uint8Array;
  try {
    data = encoder.encode(signingString(typed));
  } catch (error) {
    return invalid("malformed", (error as Error).message);
  }
  const publicKey = public_key.toLowerCase();
  if (!(await verifyHex(publicKey, signature.toLowerCase(), data))) {
    return invalid("bad signature", `signature does not match "${type}"`);
  }
  if (NODE_ID_TYPES.has(type) && typed.node_id !== await nodeIdOf(publicKey)) {
    return invalid(
      "node_id mismatch",
      `node_id "${typed.node_id}" is not the SHA-256 of public_key`,
    );
  }
  return { status: "ok", message: typed as unknown as Message };
}
