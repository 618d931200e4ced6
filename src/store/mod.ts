/** SQLite persistence: the database, its migrations, one repository per table. */
export { Database, SCHEMA_VERSION } from "./database.ts";
export type { DatabaseOptions, Row } from "./database.ts";
export { DEMAND_MAX_ROWS, DemandRepo } from "./demand_repo.ts";
export type { DemandRow } from "./demand_repo.ts";
export { StoreOpenError } from "./errors.ts";
export { loadOrCreateIdentity } from "./identity_repo.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";
