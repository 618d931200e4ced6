/** SQLite persistence: the database, its migrations, one repository per table. */
export { CertificateRepo } from "./certificate_repo.ts";
export { loadOrCreateCockpitToken } from "./cockpit_token.ts";
export { DisabledSkillRepo } from "./disabled_skill_repo.ts";
export type { CertificateRow } from "./certificate_repo.ts";
export { Database, SCHEMA_VERSION } from "./database.ts";
export type { DatabaseOptions, Row } from "./database.ts";
export { DEMAND_MAX_ROWS, DemandRepo } from "./demand_repo.ts";
export type { DemandRow } from "./demand_repo.ts";
export { StorageUnavailableError, StoreOpenError } from "./errors.ts";
export { GroupCommit } from "./group_commit.ts";
export type { GroupCommitOptions, WriteOptions } from "./group_commit.ts";
export { loadOrCreateIdentity } from "./identity_repo.ts";
export { KadContactRepo } from "./kad_contact_repo.ts";
export type { KadContactRow } from "./kad_contact_repo.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";
export { PeerRepo } from "./peer_repo.ts";
export type { PeerRow } from "./peer_repo.ts";
export { SkillRepo } from "./skill_repo.ts";
export type { SkillRow } from "./skill_repo.ts";
export { LedgerRepo } from "./ledger_repo.ts";
export type { LedgerRow } from "./ledger_repo.ts";
export { TaskRepo } from "./task_repo.ts";
export { TaskResultRepo } from "./task_result_repo.ts";
export type { TaskResultRow } from "./task_result_repo.ts";
export { isStorageFault, sqliteCode, storageFault } from "./storage_fault.ts";
export {
  probeWrite,
  STORAGE_PROBE_INTERVAL_MS,
  StorageHealth,
} from "./storage_health.ts";
export type { StorageHealthOptions } from "./storage_health.ts";
export type { ProviderHistory, TaskRow } from "./task_repo.ts";
