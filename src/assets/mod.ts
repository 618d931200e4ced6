/**
 * The assets layer: the node's content-addressed asset directory (files named by their
 * SHA-256), shared by the skill sandbox, the asset sidecar and the node.
 *
 * @module
 */
export { AssetStore, DEFAULT_MAX_ASSET_BYTES } from "./asset_store.ts";
export type { AssetStoreOptions } from "./asset_store.ts";
export type {
  AssetInfo,
  ByteSource,
  WriteOptions,
  WriteOutcome,
} from "./types.ts";
export { assetRefHash, resolveAssetRefs } from "./asset_refs.ts";
export { copyHashed } from "./copy_hashed.ts";
export type { ByteSink, CopyOptions } from "./copy_hashed.ts";
export {
  AssetHashMismatchError,
  AssetQuotaError,
  AssetTooLargeError,
  AssetTruncatedError,
} from "./errors.ts";
