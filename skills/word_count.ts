/**
 * Bundled skill: counts the lines, words and characters of a text file the skill may
 * read (a path under its declared `read` paths, or an asset sent as
 * `knarr-asset://<hash>`, which arrives as a local path).
 *
 * @example
 * ```toml
 * [skills.word-count]
 * handler = "skills/word_count.ts:handle"
 * read = ["README.md"]
 * ```
 */

/** Counts `input.path` (absolute, or relative to the node's directory). */
export async function handle(
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const path = String(input.path ?? "");
  if (path === "") {
    throw new TypeError("Cannot count words: input.path is empty");
  }
  const text = await Deno.readTextFile(path);
  const words = text.split(/\s+/).filter((word) => word !== "");
  return {
    path,
    lines: text === ""
      ? 0
      : text.split("\n").length - (text.endsWith("\n") ? 1 : 0),
    words: words.length,
    chars: [...text].length,
  };
}
