/** DHT keys of provider records: one per skill name and one per tag. */
import { createHash } from "node:crypto";

/** Python's `strip().lower().rstrip("/")`, as the original canonicalizes a skill key. */
export function canonicalSkillKey(skillKey: string): string {
  return skillKey.trim().toLowerCase().replace(/\/+$/, "");
}

/** The record key of a skill: sha256 of its canonical key (64 lowercase hex). */
export function providerKey(skillKey: string): Promise<string> {
  return Promise.resolve(providerKeySync(skillKey));
}

/**
 * {@linkcode providerKey} without a promise: handlers and lookups hash on every message,
 * and a synchronous hash keeps them free of event-loop turns (virtual-time simulations
 * rely on it).
 */
export function providerKeySync(skillKey: string): string {
  return createHash("sha256").update(canonicalSkillKey(skillKey)).digest("hex");
}

/** The skill key under which a tag's providers are recorded (knarr extension). */
export function tagSkillKey(tag: string): string {
  return `tag:${tag.trim().toLowerCase()}`;
}

/** The record key of a tag: sha256("tag:" + tag). */
export function tagKey(tag: string): Promise<string> {
  return providerKey(tagSkillKey(tag));
}
