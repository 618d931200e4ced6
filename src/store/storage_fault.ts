/** Which SQLite failures mean the disk, not the data: full, read-only, failing, unopenable. */
import { statfsSync } from "node:fs";
import { dirname } from "node:path";

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_PERM = 3;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/** The SQLite result code of a node:sqlite error, or undefined for any other error. */
export function sqliteCode(error: unknown): number | undefined {
  const e = error as { errcode?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.errcode === "number") return e.errcode;
  // Opening the file throws without a result code; its message is SQLite's text.
  if (e?.code !== "ERR_SQLITE_ERROR" || typeof e.message !== "string") {
    return undefined;
  }
  const known = Object.entries(CODE_OF_TEXT).find(([text]) =>
    (e.message as string).startsWith(text)
  );
  return known?.[1];
}

const CODE_OF_TEXT: Record<string, number> = {
  "unable to open database file": SQLITE_CANTOPEN,
  "database or disk is full": SQLITE_FULL,
  "attempt to write a readonly database": SQLITE_READONLY,
  "disk I/O error": SQLITE_IOERR,
};

/**
 * A one-line description, naming the problem and the fix, of a failure to open or write
 * the database at `path` that comes from its storage (disk full, read-only file system
 * or file, I/O error, file that cannot be opened, corruption); null for any other error
 * (a busy lock, a constraint, a bug), which says nothing about the disk.
 *
 * @example
 * ```ts
 * storageFault({ errcode: 13, message: "database or disk is full" }, "/x/node.db");
 * // 'Cannot write to database "/x/node.db": disk full — free space on the disk that holds "/x"'
 * ```
 */
export function storageFault(
  error: unknown,
  path: string,
  action: "open" | "write" = "write",
): string | null {
  const code = sqliteCode(error);
  if (code === undefined || !STORAGE_CODES.has(code & 0xff)) return null;
  const dir = dirname(path);
  const head = action === "open"
    ? `Cannot open database "${path}"`
    : `Cannot write to database "${path}"`;
  const readOnly = path === ":memory:" ? null : readOnlyReason(dir);
  if (readOnly !== null) return `${head}: ${readOnly}`;
  switch (code & 0xff) {
    case SQLITE_FULL:
      return `${head}: disk full — free space on the disk that holds "${dir}"`;
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return `${head}: the file or its file system is read-only — make "${dir}" and the database ` +
        "files writable, or remount the file system read-write";
    case SQLITE_IOERR:
      // ENOSPC while growing the WAL index surfaces as an I/O error.
      if (diskFull(dir)) {
        return `${head}: disk full — free space on the disk that holds "${dir}"`;
      }
      return `${head}: disk I/O error (${
        errorText(error)
      }) — check the disk and its ` +
        `file system ("${dir}" may have been remounted read-only after an error)`;
    case SQLITE_CANTOPEN:
      return `${head}: cannot open the file — check that "${dir}" exists, is writable and ` +
        "has free space";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return `${head}: the file is corrupt — stop the node and restore it from a backup ` +
        "or move it aside";
    default:
      return null;
  }
}

/** True when `error` is a SQLite failure of the storage (see {@linkcode storageFault}). */
export function isStorageFault(error: unknown): boolean {
  const code = sqliteCode(error);
  return code !== undefined && STORAGE_CODES.has(code & 0xff);
}

const STORAGE_CODES = new Set([
  SQLITE_PERM,
  SQLITE_READONLY,
  SQLITE_IOERR,
  SQLITE_CORRUPT,
  SQLITE_FULL,
  SQLITE_CANTOPEN,
  SQLITE_NOTADB,
]);

/** Why `dir` cannot be written to, with the fix, or null when it can. */
function readOnlyReason(dir: string): string | null {
  // access(2) is not what node:fs runs here, so try what SQLite needs: a new file.
  const probe = `${dir}/.knarr-write-check-${crypto.randomUUID()}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(0), { createNew: true });
    Deno.removeSync(probe);
    return null;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EROFS") {
      return `the file system is read-only — remount the file system that holds "${dir}" read-write`;
    }
    if (code === "EACCES" || code === "EPERM") {
      return `no permission to write to "${dir}" — make it and the database files writable for this user`;
    }
    return null;
  }
}

function diskFull(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

function errorText(error: unknown): string {
  const text = (error as { errstr?: unknown }).errstr;
  return typeof text === "string"
    ? text
    : String((error as Error).message ?? error);
}
