/** SQLite persistence: the database, its migrations, one repository per table. */
export { CertificateRepo } from "./certificate_repo.ts";
export type { CertificateRow } from "./certificate_repo.ts";
export { Database, SCHEMA_VERSION } from "./database.ts";
export type { DatabaseOptions, Row } from "./database.ts";
export { DEMAND_MAX_ROWS, DemandRepo } from "./demand_repo.ts";
export type { DemandRow } from "./demand_repo.ts";
export { StoreOpenError } from "./errors.ts";
export { loadOrCreateIdentity } from "./identity_repo.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";
export { PeerRepo } from "./peer_repo.ts";
export type { PeerRow } from "./peer_repo.ts";
export { SkillRepo } from "./skill_repo.ts";
export type { SkillRow } from "./skill_repo.ts";
export { LedgerRepo } from "./ledger_repo.ts";
export type { LedgerRow } from "./ledger_repo.ts";
export { TaskRepo } from "./task_repo.ts";
export type { ProviderHistory, TaskRow } from "./task_repo.ts";
