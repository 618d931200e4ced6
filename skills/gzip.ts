/**
 * Bundled skill: gzip-compresses a binary file sent as an asset. The caller passes
 * `{"file": "@photo.png"}` to `knarr request`, which uploads it and sends
 * `knarr-asset://<sha256>`; the handler receives a path it may read, compresses the
 * bytes and returns the result as a new asset, which `--output-dir` downloads.
 *
 * @example
 * ```toml
 * [skills.gzip]
 * handler = "skills/gzip.ts:handle"
 * input_schema = { file = "string" }
 * output_schema = { file = "string", sha256_in = "string", bytes_in = "number", bytes_out = "number" }
 * ```
 */
import type { TaskContext } from "../mod.ts";

/** Compresses `input.file` and stores the gzip stream as an asset. */
export async function handle(
  input: Record<string, unknown>,
  ctx: TaskContext,
): Promise<Record<string, unknown>> {
  const path = String(input.file ?? "");
  if (path === "" || path.startsWith("knarr-asset://")) {
    throw new TypeError(
      `Cannot compress: input.file must be an asset this node has (got "${
        path.slice(0, 80)
      }")`,
    );
  }
  const bytes = await Deno.readFile(path);
  const compressed = new Uint8Array(
    await new Response(
      new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return {
    file: `knarr-asset://${await ctx.storeAsset(compressed)}`,
    sha256_in: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(
      "",
    ),
    bytes_in: bytes.length,
    bytes_out: compressed.length,
  };
}
