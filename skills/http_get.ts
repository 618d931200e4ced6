/**
 * Bundled skill: fetches a URL from a host the skill declares in `net` and returns
 * the status and the start of the body. Any other host is refused by the sandbox.
 *
 * @example
 * ```toml
 * [skills.http-get]
 * handler = "skills/http_get.ts:handle"
 * net = ["example.com"]
 * ```
 */
import type { TaskContext } from "../mod.ts";

/** Longest body returned, in characters. */
const MAX_BODY_CHARS = 4_096;

/** Fetches `input.url` (GET) and returns `{ status, content_type, body, truncated }`. */
export async function handle(
  input: Record<string, unknown>,
  ctx: TaskContext,
): Promise<Record<string, unknown>> {
  const url = new URL(String(input.url ?? ""));
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot fetch "${url.href}": only http and https URLs`);
  }
  const response = await fetch(url, { signal: ctx.signal, redirect: "manual" });
  const text = await response.text();
  return {
    status: response.status,
    content_type: response.headers.get("content-type") ?? "",
    body: text.slice(0, MAX_BODY_CHARS),
    truncated: text.length > MAX_BODY_CHARS,
  };
}
