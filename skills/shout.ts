/**
 * Bundled skill: a pipeline. Runs the `echo` skill through `ctx.callLocal` (same
 * sandbox rules as a task from the network) and upper-cases what comes back.
 *
 * @example
 * ```toml
 * [skills.shout]
 * handler = "skills/shout.ts:handle"
 * ```
 */
import type { TaskContext } from "../mod.ts";

/** `{ text }` → `{ text: TEXT }`, via `echo`. */
export async function handle(
  input: Record<string, unknown>,
  ctx: TaskContext,
): Promise<Record<string, unknown>> {
  const echoed = await ctx.callLocal("echo", {
    text: String(input.text ?? ""),
  });
  return { text: String(echoed.text ?? "").toUpperCase() };
}
