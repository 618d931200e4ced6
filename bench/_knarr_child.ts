/** Runs `knarr <command>` as a child process for the benchmarks and waits for its ready line. */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A started child and what it printed until it was ready. */
export interface KnarrChild {
  child: Deno.ChildProcess;
  /** Stdout up to and including the ready line. */
  text: string;
}

/**
 * Spawns `deno run -A [denoFlags] main.ts <args>` and resolves once its stdout matches
 * `ready`; the rest of its stdout is discarded, its stderr passes through.
 */
export async function spawnKnarr(
  args: string[],
  ready: RegExp,
  denoFlags: string[] = [],
): Promise<KnarrChild> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, MAIN, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!ready.test(text)) {
    const { value, done } = await reader.read();
    if (done) {
      throw new Error(`Cannot start "knarr ${args[0]}": it exited early`);
    }
    text += decoder.decode(value);
  }
  reader.releaseLock();
  void child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return { child, text };
}

/** Options for {@linkcode startBenchRelay}. */
export interface BenchRelayOptions {
  /** Connection caps (total and per IP). Default 20,000. */
  maxConnections?: number;
  /** Flags for `deno run` (e.g. `--cpu-prof`). */
  denoFlags?: string[];
  /**
   * Keep the relay's default rate limit, queue bounds, deadlines and per-IP cap (only
   * `max_connections` is set, from `maxConnections`). Default false: limits lifted.
   */
  defaultLimits?: boolean;
}

/**
 * Starts `knarr relay` on 127.0.0.1 with its limits lifted (unless `defaultLimits`), so the
 * figures measure the relay and not its throttles; its config is written into `dir`.
 */
export async function startBenchRelay(
  dir: string,
  options: BenchRelayOptions = {},
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const config = `${dir}/knarr.toml`;
  const caps = options.maxConnections ?? 20_000;
  const lifted = [
    `max_connections_per_ip = ${caps}`,
    "rate_limit = 1000000000",
    "rate_burst = 1000000000",
    "max_queue = 10000000",
    "idle_timeout = 3600",
  ];
  await Deno.writeTextFile(
    config,
    [
      "[relay]",
      'host = "127.0.0.1"',
      "port = 0",
      `max_connections = ${caps}`,
      ...(options.defaultLimits ? [] : lifted),
    ].join("\n") + "\n",
  );
  const { child, text } = await spawnKnarr(
    ["relay", "--config", config, "--log-level", "error"],
    /Relay key:/,
    options.denoFlags ?? [],
  );
  const port = Number(/Relay listening: [^\n]*:(\d+)/.exec(text)![1]);
  return { child, port };
}
