/** SYNC_RESPONSE entries: stored ANNOUNCEs carried with their original signatures. */
import { float, isJsonObject } from "./json_value.ts";
import type { Announce, SyncEntry } from "./messages.ts";
import { verifyMessage, type VerifyResult } from "./sign.ts";

/**
 * Rebuilds the ANNOUNCE a SYNC_RESPONSE entry stands for (`node_id` =
 * `provider_node_id`, unsigned fields at their defaults except a valid
 * `sidecar_port`) and verifies it; `ok` carries the typed ANNOUNCE.
 *
 * @example
 * ```ts
 * import { verifyMessage, verifySyncEntry } from "./mod.ts";
 * declare const body: Record<string, unknown>;
 * const sync = await verifyMessage(body);
 * if (sync.status === "ok" && sync.message.type === "SYNC_RESPONSE") {
 *   for (const entry of sync.message.skills) await verifySyncEntry(entry);
 * }
 * ```
 */
export function verifySyncEntry(entry: unknown): Promise<VerifyResult> {
  if (!isJsonObject(entry)) {
    return Promise.resolve({
      status: "invalid",
      reason: "malformed",
      detail: "sync entry is not an object",
    });
  }
  const announce: Record<string, unknown> = {
    type: "ANNOUNCE",
    msg_id: entry.msg_id,
    public_key: entry.public_key,
    signature: entry.signature,
    node_id: entry.provider_node_id,
    skill_key: entry.skill_key,
    skill_sheet: entry.skill_sheet,
  };
  if (Number.isSafeInteger(entry.sidecar_port)) {
    announce.sidecar_port = entry.sidecar_port;
  }
  return verifyMessage(announce);
}

/** Options for {@linkcode syncEntryOf}. */
export interface SyncEntryOptions {
  /** When the skill was stored, unix seconds (sent as a Python float). */
  announcedAt: number;
  /** Its time to live in seconds (an int). */
  ttl: number;
}

/** The SYNC_RESPONSE entry of a verified or own ANNOUNCE, in the original's key order. */
export function syncEntryOf(
  announce: Announce,
  options: SyncEntryOptions,
): SyncEntry {
  return {
    skill_key: announce.skill_key,
    provider_node_id: announce.node_id,
    skill_sheet: announce.skill_sheet,
    announced_at: float(options.announcedAt),
    ttl: options.ttl,
    public_key: announce.public_key,
    signature: announce.signature,
    msg_id: announce.msg_id,
    sidecar_port: announce.sidecar_port,
  };
}
