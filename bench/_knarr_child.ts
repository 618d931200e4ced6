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
