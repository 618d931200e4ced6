/** `knarr-asset://<hash>` references in task inputs. */
import type { JsonObject } from "../wire/mod.ts";
import type { AssetStore } from "./asset_store.ts";

const ASSET_REF_RE = /^knarr-asset:\/\/([0-9a-f]{64})$/;

/** The hash in a `knarr-asset://<64 lowercase hex>` string, or null. */
export function assetRefHash(value: unknown): string | null {
  if (typeof value !== "string") return null;
  return ASSET_REF_RE.exec(value)?.[1] ?? null;
}

/**
 * A copy of `input` whose top-level `knarr-asset://<hash>` strings are replaced by the
 * asset's local path when the asset is stored; every other value is left alone.
 *
 * @example
 * ```ts
 * import { AssetStore, resolveAssetRefs } from "./mod.ts";
 * const store = new AssetStore("/tmp/assets");
 * const hash = await store.put(new Uint8Array([1, 2, 3]));
 * await resolveAssetRefs({ image: `knarr-asset://${hash}`, n: 1 }, store);
 * // { image: "/tmp/assets/<hash>", n: 1 }
 * ```
 */
export async function resolveAssetRefs(
  input: JsonObject,
  store: AssetStore,
  options: { signal?: AbortSignal } = {},
): Promise<JsonObject> {
  const output: JsonObject = { ...input };
  for (const [key, value] of Object.entries(input)) {
    const hash = assetRefHash(value);
    if (hash === null) continue;
    const path = await store.get(hash, options);
    if (path !== null) output[key] = path;
  }
  return output;
}
