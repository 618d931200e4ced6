/** `knarr request` and assets: `@file` inputs uploaded per provider, `--output-dir` downloads. */
import { basename, join, resolve, sep } from "node:path";
import type { QueryResult } from "../discovery/mod.ts";
import type { KnarrNode } from "../node/mod.ts";
import type { TransferOptions } from "../sidecar/mod.ts";
import { assetRefHash } from "../assets/mod.ts";
import type { JsonObject } from "../wire/mod.ts";
import { UsageError } from "./command.ts";
import type { Output } from "./output.ts";

/** Transfers at least this large show a progress line on a terminal. */
export const PROGRESS_MIN_BYTES = 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

/**
 * Takes the `@path` (or `{"@file": path}`) values out of an input object: they name
 * files to upload. Throws a `UsageError` for a file that cannot be read.
 */
export function inputFiles(input: JsonObject): Map<string, string> {
  const files = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    let path: string | null = null;
    if (
      typeof value === "string" && value.startsWith("@") && value.length > 1
    ) {
      path = value.slice(1);
    } else if (
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.keys(value).length === 1 &&
      typeof (value as JsonObject)["@file"] === "string"
    ) {
      path = (value as JsonObject)["@file"] as string;
    }
    if (path === null) continue;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (error) {
      throw new UsageError(
        `Cannot read --input file "${path}" for "${key}": ${
          error instanceof Deno.errors.NotFound
            ? "no such file"
            : (error as Error).message
        }`,
      );
    }
    if (!info.isFile) {
      throw new UsageError(
        `Cannot read --input file "${path}" for "${key}": not a file`,
      );
    }
    if (info.size === 0) {
      throw new UsageError(
        `Cannot send --input file "${path}" for "${key}": it is empty`,
      );
    }
    files.set(key, path);
  }
  return files;
}

/** The input for one provider: each file uploaded to its sidecar (skipped when it has it). */
export function uploadingInput(
  node: KnarrNode,
  input: JsonObject,
  files: Map<string, string>,
  out: Output,
  options: { progress: boolean },
): (provider: QueryResult, signal?: AbortSignal) => Promise<JsonObject> {
  return async (provider, signal) => {
    const prepared: JsonObject = { ...input };
    for (const [key, path] of files) {
      const meter = progressMeter(out, `Uploading ${basename(path)}`, options);
      try {
        const outcome = await node.uploadAsset(provider, path, {
          ...(signal ? { signal } : {}),
          ...meter.options,
        });
        prepared[key] = `knarr-asset://${outcome.hash}`;
      } finally {
        meter.end();
      }
    }
    return prepared;
  };
}

/** One downloaded output. */
export interface Downloaded {
  key: string;
  path: string;
  bytes: number;
}

/**
 * `DIR/<key scrubbed to [A-Za-z0-9_.-]>_<hash[:12]>`, confined to DIR (spec part 4).
 * Returns null for a name that would leave DIR.
 */
export function outputPath(
  dir: string,
  key: string,
  hash: string,
): string | null {
  const scrubbed = key.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 100) ||
    "output";
  const name = `${scrubbed}_${hash.slice(0, 12)}`;
  const root = resolve(dir);
  return resolve(root, name).startsWith(root + sep) ? join(dir, name) : null;
}

/** Downloads every top-level `knarr-asset://` output of a completed task into `dir`. */
export async function downloadOutputs(
  node: KnarrNode,
  provider: { node_id: string; host: string; sidecar_port: number },
  output: JsonObject,
  dir: string,
  out: Output,
  options: { progress: boolean; signal?: AbortSignal },
): Promise<Downloaded[]> {
  const done: Downloaded[] = [];
  const byHash = new Map<string, string>();
  for (const [key, value] of Object.entries(output)) {
    const hash = assetRefHash(value);
    if (hash === null) continue;
    const path = outputPath(dir, key, hash);
    if (path === null) {
      throw new Error(`Cannot save output "${key}": its name leaves "${dir}"`);
    }
    const earlier = byHash.get(hash);
    if (earlier !== undefined) {
      // One download per asset: the same request twice in a second is a replay to the sidecar.
      await Deno.copyFile(earlier, path);
    } else {
      const meter = progressMeter(out, `Downloading ${key}`, options);
      try {
        await node.downloadAsset(provider, hash, path, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...meter.options,
        });
      } finally {
        meter.end();
      }
      byHash.set(hash, path);
    }
    done.push({ key, path, bytes: (await Deno.stat(path)).size });
  }
  return done;
}

/** A progress line for one transfer, drawn only on a terminal and for large transfers. */
export function progressMeter(
  out: Output,
  label: string,
  options: { progress: boolean },
): { options: TransferOptions; end(): void } {
  if (!options.progress || !out.progressEnabled) {
    return { options: {}, end() {} };
  }
  const started = performance.now();
  let last = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    options: {
      onProgress(done, total) {
        if (total < PROGRESS_MIN_BYTES) return;
        const now = performance.now();
        if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        drawn = true;
        out.progress(formatProgress(label, done, total, now - started));
      },
    },
    end() {
      if (drawn) out.progress(null);
    },
  };
}

/** `Uploading photo.png  12.0 MB / 100.0 MB  12%  350.1 MB/s`. */
export function formatProgress(
  label: string,
  done: number,
  total: number,
  elapsedMs: number,
): string {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  const rate = elapsedMs > 0 ? done / 1e6 / (elapsedMs / 1000) : 0;
  return `${label}  ${mb(done)} / ${mb(total)}  ${percent}%  ${
    rate.toFixed(1)
  } MB/s`;
}
