/** `[sidecar]`: the asset directory, its quota and retention, and who may upload. */
import { resolve } from "node:path";
import { NODE_ID_RE, show } from "./_check.ts";
import type { TableReader } from "./_check.ts";
import { DEFAULTS } from "./schema.ts";
import type { SidecarSection } from "./schema.ts";

/** Reads the `[sidecar]` table; `asset_dir` resolves against the project `dir`. */
export function readSidecar(sidecar: TableReader, dir: string): SidecarSection {
  return {
    assetDir: resolve(
      dir,
      sidecar.string("asset_dir", DEFAULTS.sidecar.assetDir, { min: 1 }),
    ),
    maxTotalSize: sidecar.int(
      "max_total_size",
      DEFAULTS.sidecar.maxTotalSize,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    assetTtl: sidecar.int(
      "asset_ttl",
      DEFAULTS.sidecar.assetTtl,
      0,
      31_536_000,
    ),
    allowUploads: readAllowUploads(sidecar),
    replayMemory: sidecar.int(
      "replay_memory",
      DEFAULTS.sidecar.replayMemory,
      100,
      10_000_000,
    ),
  };
}

function readAllowUploads(
  sidecar: TableReader,
): SidecarSection["allowUploads"] {
  const v = sidecar.raw("allow_uploads");
  if (v === undefined) return DEFAULTS.sidecar.allowUploads;
  if (v === "any" || v === "callers") return v;
  const fix =
    `set allow_uploads = "any", "callers" or ["<node id>", ...] (64 lowercase hex characters each)`;
  if (!Array.isArray(v)) {
    sidecar.fail("allow_uploads", `got ${show(v)}; ${fix}`);
  }
  if (v.length === 0) {
    sidecar.fail("allow_uploads", `the list is empty; ${fix}`);
  }
  for (const id of v) {
    if (typeof id !== "string" || !NODE_ID_RE.test(id)) {
      sidecar.fail("allow_uploads", `${show(id)} is not a node id; ${fix}`);
    }
  }
  return [...(v as string[])];
}
