/**
 * Process plumbing of the relay soak: it re-runs itself as the load generator with Deno's I/O
 * reactor polled every scheduler tick (`DENO_TOKIO_EVENT_INTERVAL=1`; with the default of 61 a
 * busy process holding thousands of sockets sees their readiness late, which would add its own
 * hundreds of milliseconds to the latencies measured), optionally inside a network namespace
 * with small TCP buffers; and it reads a process's CPU time and memory from /proc (Linux).
 */

/** Set in the re-run generator; holds the TCP buffer cap when it runs in its own namespace. */
export const SOAK_CHILD_ENV = "KNARR_SOAK_CHILD";
/** The variable Deno reads, at start, for how often its I/O reactor is polled. */
export const EVENT_INTERVAL_ENV = "DENO_TOKIO_EVENT_INTERVAL";

async function run(command: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, {
    args,
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot run ${command} ${args.join(" ")}: ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
}

/**
 * Runs `script` with `args` again as the tuned generator (in a namespace whose TCP buffers are
 * at most `tcpBuffers` bytes when given, which needs root); returns its exit code.
 */
export async function rerunAsGenerator(
  script: string,
  args: string[],
  tcpBuffers: number | null,
): Promise<number> {
  const command = [Deno.execPath(), "run", "-A", script, ...args];
  const env = {
    [SOAK_CHILD_ENV]: tcpBuffers === null ? "default" : String(tcpBuffers),
    [EVENT_INTERVAL_ENV]: "1",
  };
  if (tcpBuffers === null) {
    const child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      env,
    }).spawn();
    return (await child.status).code;
  }
  const name = `knarr-soak-${Deno.pid}`;
  await run("ip", ["netns", "add", name]);
  try {
    await run("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
    const range = `4096 ${Math.min(tcpBuffers, 16_384)} ${tcpBuffers}`;
    await run("ip", [
      "netns",
      "exec",
      name,
      "sysctl",
      "-q",
      "-w",
      `net.ipv4.tcp_wmem=${range}`,
      `net.ipv4.tcp_rmem=${range}`,
    ]);
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", name, ...command],
      env,
    }).spawn();
    return (await child.status).code;
  } finally {
    await run("ip", ["netns", "del", name]);
  }
}

/** User plus system CPU seconds of a process (all its threads). */
export function cpuSeconds(pid: number | "self"): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!
    .split(" ");
  // utime and stime, in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process now and at its peak, MiB. */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) /
    1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}
