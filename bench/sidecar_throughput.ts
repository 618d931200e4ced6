/**
 * Asset sidecar throughput: a 100 MiB upload and download on loopback between this
 * process (SidecarClient) and `knarr serve` in a child process, over TLS, with the
 * server's peak RSS growth read from /proc. Prints figures; never fails on time.
 *
 *   deno run -A bench/sidecar_throughput.ts [--mib 100] [--runs 3]
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { Identity } from "../src/crypto/mod.ts";
import { SidecarClient } from "../src/sidecar/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { mib: { type: "string" }, runs: { type: "string" } },
});
const MIB = Number(values.mib ?? 100);
const RUNS = Number(values.runs ?? 3);
const SIZE = MIB * 1024 * 1024;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function hashFile(path: string): Promise<string> {
  using file = await Deno.open(path);
  const hash = createHash("sha256");
  const buffer = new Uint8Array(1024 * 1024);
  for (;;) {
    const n = await file.read(buffer);
    if (n === null) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
  }
}

function kib(status: string, field: string): number {
  return Number(
    new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0,
  );
}

async function procStatus(pid: number): Promise<string> {
  return await Deno.readTextFile(`/proc/${pid}/status`);
}

async function startServe(dir: string) {
  await Deno.writeTextFile(
    `${dir}/knarr.toml`,
    `[node]\nstorage = "node.db"\n[sidecar]\nmax_total_size = ${
      (RUNS + 1) * SIZE + 1024
    }\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      MAIN,
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-level",
      "warn",
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^Loaded /m.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${text}`);
    text += value;
  }
  const nodeId = /^Node ID: ([0-9a-f]{64})$/m.exec(text)![1]!;
  const port = Number(/^Sidecar: https:\/\/[^\s]+:(\d+)$/m.exec(text)![1]);
  return { child, reader, nodeId, port };
}

const dir = await Deno.makeTempDir({ prefix: "knarr-sidecar-bench-" });
const served = await startServe(dir);
try {
  const target = {
    nodeId: served.nodeId,
    host: "127.0.0.1",
    port: served.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  // Warm up the TLS path and the pinned certificate.
  await client.upload(target, new TextEncoder().encode("warm-up"));
  const baseline = kib(await procStatus(served.child.pid), "VmRSS");
  const clientBaseline = Deno.memoryUsage().rss;

  const up: number[] = [];
  const put: number[] = [];
  const down: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const path = `${dir}/payload-${run}.bin`;
    {
      // A different payload per run, so no upload is skipped as already stored.
      using file = await Deno.open(path, { write: true, createNew: true });
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < MIB; i++) {
        chunk.fill((i * 31 + run * 7) & 255);
        chunk[0] = run;
        await file.write(chunk);
      }
    }
    let started = performance.now();
    const { hash } = await client.upload(target, path);
    const upMs = performance.now() - started;
    up.push(SIZE / 1e6 / (upMs / 1000));
    // What upload() spends before the PUT: the hash pass over the file.
    started = performance.now();
    await hashFile(path);
    put.push(SIZE / 1e6 / ((upMs - (performance.now() - started)) / 1000));
    started = performance.now();
    await client.download(target, hash, `${dir}/copy-${run}.bin`);
    down.push(SIZE / 1e6 / ((performance.now() - started) / 1000));
    await Deno.remove(path);
    await Deno.remove(`${dir}/copy-${run}.bin`);
  }
  const status = await procStatus(served.child.pid);
  const peakGrowthMb = (kib(status, "VmHWM") - baseline) / 1024;
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(0)} MB/s (runs: ${
      xs.map((x) => x.toFixed(0)).join(", ")
    })`;
  const lines = [
    `sidecar ${MIB} MiB over TLS on loopback, ${RUNS} runs`,
    `upload   (hash the file, signed HEAD, streamed PUT): ${fmt(up)}`,
    `  without the client's hash pass (HEAD + PUT):        ${fmt(put)}`,
    `download (signed GET, hashed and checked, to disk):  ${fmt(down)}`,
    `server peak RSS growth: ${peakGrowthMb.toFixed(1)} MB (VmHWM ${
      (kib(status, "VmHWM") / 1024).toFixed(0)
    } MB, start ${(baseline / 1024).toFixed(0)} MB)`,
    `client RSS growth: ${
      ((Deno.memoryUsage().rss - clientBaseline) / 1e6).toFixed(1)
    } MB`,
  ];
  await Deno.stdout.write(new TextEncoder().encode(lines.join("\n") + "\n"));
} finally {
  served.child.kill("SIGTERM");
  await served.child.status;
  await served.reader.cancel();
  await Deno.remove(dir, { recursive: true });
}
