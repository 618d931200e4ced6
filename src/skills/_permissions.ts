/**
 * The Deno permissions of a skill's Worker.
 *
 * Measured on Deno 2.9.6 (see tests/skills_sandbox_test.ts):
 * - the guard Worker's own module needs nothing (it is checked against the node's
 *   permissions); the runner it starts from the same file needs read on that file;
 * - `import()` of the handler needs read on the handler file and on every module
 *   its static imports reach by path (relative imports);
 * - `import type` is erased before loading, so it needs nothing;
 * - `npm:` packages load from Deno's npm cache without any read grant, and need no
 *   `import` grant (`import` is for remote https:/jsr: modules; we grant none).
 *
 * So a Worker gets read on worker_host.ts, on the handler's directory (or only the
 * handler file when that directory holds a protected path such as the node's key
 * database or the asset directory), on the declared `read` paths and on its own asset
 * inbox (see _asset_inbox.ts), never on the whole asset directory; `net` exactly as
 * declared; no env, run, write, ffi, sys or import.
 */
import { realpathSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { SkillPermissionError } from "./errors.ts";
import type { SkillSpec } from "./types.ts";

/** Where the grants come from besides the spec. */
export interface PermissionContext {
  /** Absolute path of worker_host.ts. */
  hostPath: string;
  /** Absolute path of the asset directory, which no grant may cover. */
  assetDir?: string;
  /** Absolute path of this Worker's asset inbox, if assets are offered. */
  inboxDir?: string;
  /** Paths no skill may read (the node database and its journal files). */
  protectedPaths: readonly string[];
}

/** The Worker permissions of one skill; throws `SkillPermissionError` on exposure. */
export function workerPermissions(
  spec: SkillSpec,
  context: PermissionContext,
): Deno.PermissionOptionsObject {
  // A grant over the asset directory would reach every asset, not only a run's own.
  const protectedPaths = [
    ...context.protectedPaths,
    ...(context.assetDir === undefined ? [] : [context.assetDir]),
  ].flatMap(variants);
  const exposed = (grant: string): string | undefined => {
    const grants = variants(grant);
    return protectedPaths.find((p) => grants.some((g) => contains(g, p)));
  };
  const fail = (what: string, path: string, secret: string): never => {
    throw new SkillPermissionError(
      spec.name,
      `Cannot load skill "${spec.name}": ${what} "${path}" would expose protected file "${secret}"`,
    );
  };

  const handlerPath = resolve(spec.handlerPath);
  const handlerDir = dirname(handlerPath);
  const read = [resolve(context.hostPath)];
  if (exposed(handlerDir) === undefined) {
    read.push(handlerDir);
  } else {
    // Relative imports then need their own `read` entries.
    const secret = exposed(handlerPath);
    if (secret !== undefined) fail("handler", handlerPath, secret);
    read.push(handlerPath);
  }
  for (const path of spec.read) {
    const absolute = resolve(path);
    const secret = exposed(absolute);
    if (secret !== undefined) fail("read path", absolute, secret);
    read.push(absolute);
  }
  if (context.inboxDir !== undefined) {
    const absolute = resolve(context.inboxDir);
    const secret = exposed(absolute);
    if (secret !== undefined) fail("asset inbox", absolute, secret);
    read.push(absolute);
  }
  return {
    read: [...new Set(read)],
    net: spec.net.length > 0 ? [...spec.net] : false,
    env: false,
    run: false,
    write: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/** The path as given and, when it exists, with symlinks resolved. */
function variants(path: string): string[] {
  const absolute = resolve(path);
  try {
    const real = realpathSync(absolute);
    return real === absolute ? [absolute] : [absolute, real];
  } catch {
    return [absolute];
  }
}

function contains(parent: string, child: string): boolean {
  if (parent === child) return true;
  const prefix = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(prefix);
}

/** The node database and the journal files SQLite keeps next to it. */
export function databasePaths(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`];
}
