/** Runs `knarr serve` as a child process for the load benchmarks, with the bundled echo skill. */
import { spawnKnarr } from "./_knarr_child.ts";

const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;

/** A running `knarr serve` child. */
export interface ServeChild {
  port: number;
  pid: number;
  /** Resident memory of the child now. */
  rssBytes(): number;
  /** User + system CPU seconds the child has used so far (all threads). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Options for {@linkcode startServe}. */
export interface StartServeOptions {
  /** Price of the echo skill. Default 0 (the load tool's calls would run out of credit). */
  echoPrice?: number;
  /** Extra `[node]` lines. */
  nodeLines?: string[];
}

/** Starts `knarr serve` in a temporary directory and resolves once it is listening. */
export async function startServe(
  options: StartServeOptions = {},
): Promise<ServeChild> {
  const dir = await Deno.makeTempDir({ prefix: "knarr-bench-" });
  await Deno.copyFile(ECHO, `${dir}/echo.ts`);
  await Deno.writeTextFile(
    `${dir}/knarr.toml`,
    [
      "[node]",
      'host = "127.0.0.1"',
      "port = 0",
      `storage = "${dir}/node.db"`,
      ...(options.nodeLines ?? []),
      "[skills.echo]",
      'handler = "echo.ts:handle"',
      'description = "Echoes input text back"',
      'tags = ["bench"]',
      `price = ${options.echoPrice ?? 0}`,
      'input_schema = { text = "string" }',
    ].join("\n") + "\n",
  );
  const { child, text } = await spawnKnarr(
    ["serve", "--config", `${dir}/knarr.toml`, "--log-level", "error"],
    /Listening: [^\n]*:(\d+)\n/,
  );
  const port = Number(/Listening: [^\n]*:(\d+)\n/.exec(text)![1]);
  const pid = child.pid;
  return {
    port,
    pid,
    rssBytes() {
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
    },
    cpuSeconds() {
      const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
        .split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
