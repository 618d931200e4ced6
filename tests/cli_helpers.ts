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

/** A running `knarr serve` child and the lines it printed at start. */
export interface Served {
  child: Deno.ChildProcess;
  lines: string[];
  port: number;
  /** The sidecar port from the `Sidecar:` line, 0 when it printed none. */
  sidecarPort: number;
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts `knarr serve --host 127.0.0.1 --port 0 …` and waits for its `Loaded` line. */
export async function serve(cwd: string, args: string[] = []): Promise<Served> {
  const child = spawnKnarr([
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    ...args,
  ], { cwd });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const lines: string[] = [];
  let buffered = "";
  const deadline = Date.now() + 20_000;
  while (!lines.some((l) => l.startsWith("Loaded "))) {
    if (Date.now() > deadline) {
      throw new Error(`serve did not start: ${lines.join("\n")}`);
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited early: ${lines.join("\n")}`);
    buffered += value;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    lines.push(...parts);
  }
  const port = Number(
    /^Listening: 127\.0\.0\.1:(\d+)$/m.exec(lines.join("\n"))![1],
  );
  const stderrText = new Response(child.stderr).text();
  const sidecar = /^Sidecar: https:\/\/[^\s]+:(\d+)$/m.exec(lines.join("\n"));
  return {
    child,
    lines,
    port,
    sidecarPort: Number(sidecar?.[1] ?? 0),
    async stop() {
      child.kill("SIGTERM");
      const [status, stderr] = await Promise.all([child.status, stderrText]);
      await reader.cancel();
      return { code: status.code, stderr };
    },
  };
}

/** `knarr request --skill <skill> --input <input> --bootstrap 127.0.0.1:<port> …extra`. */
export function knarrRequest(
  port: number,
  skill: string,
  input: string,
  options: { cwd?: string; extra?: string[] } = {},
): Promise<CliResult> {
  return knarr([
    "request",
    "--skill",
    skill,
    "--input",
    input,
    "--bootstrap",
    `127.0.0.1:${port}`,
    ...(options.extra ?? []),
  ], options.cwd ? { cwd: options.cwd } : {});
}
