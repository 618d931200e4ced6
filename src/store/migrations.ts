/** Forward-only numbered schema migrations; each runs once, in order, inside a transaction. */

/** One schema step. */
export interface Migration {
  /** Schema version this step brings the database to; 1, 2, 3… without gaps. */
  version: number;
  /** Short description, recorded in `schema_migrations`. */
  name: string;
  /** The statements to run. */
  sql: string;
}

/** All migrations, in order. Never edit a released one: append a new version instead. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
      CREATE TABLE node_identity (
        key_bytes BLOB NOT NULL CHECK (length(key_bytes) = 32)
      );
      CREATE TABLE peers (
        node_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        public_key TEXT NOT NULL DEFAULT '',
        sidecar_port INTEGER NOT NULL DEFAULT 0,
        load REAL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL
      );
      CREATE TABLE skills (
        skill_key TEXT NOT NULL,
        provider_node_id TEXT NOT NULL,
        skill_sheet TEXT NOT NULL,
        is_own INTEGER NOT NULL DEFAULT 0,
        visibility TEXT NOT NULL DEFAULT 'public',
        announced_at REAL NOT NULL,
        ttl INTEGER NOT NULL,
        public_key TEXT NOT NULL DEFAULT '',
        signature TEXT NOT NULL DEFAULT '',
        msg_id TEXT NOT NULL DEFAULT '',
        sidecar_port INTEGER NOT NULL DEFAULT 0,
        host TEXT NOT NULL DEFAULT '',
        port INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (skill_key, provider_node_id)
      );
      CREATE INDEX skills_by_provider ON skills (provider_node_id);
      CREATE TABLE tasks (
        task_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('provider', 'consumer')),
        skill_name TEXT NOT NULL,
        peer_node_id TEXT NOT NULL,
        peer_public_key TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        error_code TEXT,
        price REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        finished_at REAL,
        wall_ms REAL,
        PRIMARY KEY (task_id, role)
      );
      CREATE INDEX tasks_by_peer ON tasks (role, peer_node_id, created_at);
      CREATE TABLE ledger (
        peer_public_key TEXT PRIMARY KEY,
        balance REAL NOT NULL,
        tasks_provided INTEGER NOT NULL DEFAULT 0,
        tasks_consumed INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
      );
      CREATE TABLE demand (
        query_value TEXT NOT NULL,
        query_type TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        PRIMARY KEY (query_value, query_type)
      );
      CREATE INDEX demand_by_last_seen ON demand (last_seen);
    `,
  },
  {
    version: 2,
    name: "sidecar certificate",
    // At most one row: CertificateRepo.put() replaces it.
    sql: `
      CREATE TABLE sidecar_certificate (
        der BLOB NOT NULL,
        created_at REAL NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "task history appended by rowid",
    // A provider row was inserted into two B-trees keyed by random task ids (about
    // 50 µs a commit on a large table); now it is appended to the table alone. Only
    // consumer rows, which are replaced and queried by peer, keep (partial) indexes.
    sql: `
      CREATE TABLE tasks_v3 (
        id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('provider', 'consumer')),
        skill_name TEXT NOT NULL,
        peer_node_id TEXT NOT NULL,
        peer_public_key TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        error_code TEXT,
        price REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        finished_at REAL,
        wall_ms REAL
      );
      INSERT INTO tasks_v3 (task_id, role, skill_name, peer_node_id, peer_public_key, status,
          error_code, price, created_at, finished_at, wall_ms)
        SELECT task_id, role, skill_name, peer_node_id, peer_public_key, status, error_code,
          price, created_at, finished_at, wall_ms FROM tasks ORDER BY created_at;
      DROP TABLE tasks;
      ALTER TABLE tasks_v3 RENAME TO tasks;
      CREATE UNIQUE INDEX tasks_consumer_task ON tasks (task_id) WHERE role = 'consumer';
      CREATE INDEX tasks_by_peer ON tasks (peer_node_id, created_at) WHERE role = 'consumer';
    `,
  },
  {
    version: 4,
    name: "kademlia routing table",
    sql: `
      CREATE TABLE kad_contacts (
        node_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        last_seen REAL NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: "cockpit token and disabled skills",
    // At most one token row: loadOrCreateCockpitToken() keeps the first.
    sql: `
      CREATE TABLE cockpit_token (
        token TEXT NOT NULL,
        created_at REAL NOT NULL
      );
      CREATE TABLE disabled_skills (
        skill_name TEXT PRIMARY KEY,
        disabled_at REAL NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: "task results for retries",
    // The output of each task run for another node, appended by rowid in the commit that
    // charges it: a retry of the same task id gets it again instead of a second charge.
    sql: `
      CREATE TABLE task_results (
        id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL,
        requester_public_key TEXT NOT NULL,
        output TEXT NOT NULL,
        finished_at REAL NOT NULL
      );
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION: number =
  MIGRATIONS[MIGRATIONS.length - 1]!.version;
