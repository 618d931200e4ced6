/**
 * knarr's programmatic API: identities, configuration and storage for agents that build
 * nodes in code.
 *
 * @example
 * ```ts
 * import { Database, loadOrCreateIdentity } from "./mod.ts";
 * await using db = Database.open("node.db");
 * const identity = await loadOrCreateIdentity(db);
 * console.log(identity.nodeId);
 * ```
 *
 * @module
 */
export { Identity, nodeIdOf, verifyHex } from "./src/crypto/mod.ts";
export {
  ConfigError,
  defaultConfig,
  DEFAULTS,
  loadConfig,
  parseConfig,
} from "./src/config/mod.ts";
export type {
  ConfigOverrides,
  KnarrConfig,
  SkillConfig,
  Visibility,
} from "./src/config/mod.ts";
export {
  Database,
  DemandRepo,
  loadOrCreateIdentity,
  StoreOpenError,
} from "./src/store/mod.ts";
export { main } from "./src/cli/mod.ts";
