/**
 * Bundled skill: echoes the input text back.
 *
 * @example
 * ```toml
 * [skills.echo]
 * handler = "skills/echo.ts:handle"
 * ```
 */
export function handle(
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return Promise.resolve({ text: String(input.text ?? "") });
}
