/**
 * The asset directory on disk besides the assets themselves: the scan that rebuilds the
 * index on open, and the temporary files writes stream into before they are renamed.
 */
import { isHex64 } from "../util/mod.ts";
import type { AssetIndex } from "./_asset_index.ts";
import { copyHashed } from "./copy_hashed.ts";
import type { ByteSource, WriteOptions } from "./types.ts";

const TEMP_RE = /^\.[0-9a-f-]{36}\.tmp$/;

/**
 * Creates `dir` and indexes the assets in it (upload time = mtime); removes temporary
 * files a crashed write left.
 */
export async function scanAssetDir(
  dir: string,
  index: AssetIndex,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    const path = `${dir}/${entry.name}`;
    if (TEMP_RE.test(entry.name)) {
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (!isHex64(entry.name)) continue;
    const info = await Deno.stat(path).catch(() => null);
    if (info === null) continue;
    index.add(
      entry.name,
      info.size,
      (info.mtime?.getTime() ?? Date.now()) / 1000,
    );
  }
}

/** A new temporary file path in `dir`, named so that a later scan removes it. */
export function tempPathIn(dir: string): string {
  return `${dir}/.${crypto.randomUUID()}.tmp`;
}

/** Reads `options.size` bytes into the new file `temp`, hashing them on the way. */
export async function copyToTemp(
  source: ByteSource,
  temp: string,
  options: WriteOptions,
): Promise<string> {
  const file = await Deno.open(temp, { write: true, createNew: true });
  try {
    return await copyHashed(source, file, options);
  } finally {
    file.close();
  }
}
