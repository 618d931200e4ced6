/** Black-box CLI runner: spawns `deno run main.ts` and captures stdout, stderr and the exit code. */

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What a CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode knarr}. */
export interface KnarrRunOptions {
  cwd?: string;
  /** Kills the process after this many ms (default 60 s). */
  timeoutMs?: number;
}

/** Runs `knarr <args>` to completion. */
export async function knarr(
  args: string[],
  options: KnarrRunOptions = {},
): Promise<CliResult> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: options.cwd ?? Deno.cwd(),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  const { code, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** Spawns `knarr <args>` in the background; the caller reads and kills it. */
export function spawnKnarr(
  args: string[],
  options: { cwd?: string } = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    cwd: options.cwd ?? Deno.cwd(),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
}

/** The path of main.ts, for tests that build their own commands. */
export const MAIN_PATH: string = MAIN;
