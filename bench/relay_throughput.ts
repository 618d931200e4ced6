/**
 * Keep relay figures: forwarded packets per second, `server` request-reply latency, memory per
 * idle connection. Runs `knarr relay` as a child process (so the relay has a core of its own)
 * and drives it from this process with pre-signed packets.
 *
 *   deno run -A bench/relay_throughput.ts [--pairs 50] [--packets 4000] [--requests 5000] [--idle 10000]
 *     [--idle-only] [--settle 0]
 *
 * `--idle-only` measures idle connections on a fresh relay: the forwarding phases grow the
 * relay's heap first, which hides what each connection costs. The idle figure is taken 3 s
 * after the last connection registered; `--settle S` adds one taken S seconds after it, once
 * V8 has shrunk the young generation that the burst of registrations grew (about 30 s).
 * Prints figures; never passes or fails on time.
 */
import { parseArgs } from "node:util";
import { startBenchRelay } from "./_knarr_child.ts";
import { Identity } from "../src/crypto/mod.ts";
import { encodeFrame, encodePacket, signPacket } from "../src/relay/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    pairs: { type: "string", default: "50" },
    packets: { type: "string", default: "4000" },
    requests: { type: "string", default: "5000" },
    idle: { type: "string", default: "10000" },
    "idle-only": { type: "boolean", default: false },
    settle: { type: "string", default: "0" },
  },
});
const PAIRS = Number(values.pairs);
const PACKETS_PER_PAIR = Number(values.packets);
const REQUESTS = Number(values.requests);
const IDLE = Number(values.idle);
const SETTLE_MS = Number(values.settle) * 1000;
const BODY = "x".repeat(100);

const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

function startRelay(
  dir: string,
): Promise<{ child: Deno.ChildProcess; port: number }> {
  return startBenchRelay(dir, { maxConnections: IDLE + 1000 });
}

async function connect(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  return conn;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** Reads until `count` frames arrived (frames are counted by their length prefixes). */
async function readFrames(conn: Deno.Conn, count: number): Promise<void> {
  const buffer = new Uint8Array(256 * 1024);
  let header = new Uint8Array(4);
  let headerFill = 0;
  let skip = 0;
  let frames = 0;
  while (frames < count) {
    const n = await conn.read(buffer);
    if (n === null) {
      throw new Error(`Connection closed after ${frames} of ${count} frames`);
    }
    let i = 0;
    while (i < n) {
      if (skip > 0) {
        const take = Math.min(skip, n - i);
        skip -= take;
        i += take;
        if (skip === 0) frames++;
        continue;
      }
      header[headerFill++] = buffer[i++]!;
      if (headerFill === 4) {
        skip = new DataView(header.buffer).getUint32(0);
        headerFill = 0;
        header = new Uint8Array(4);
      }
    }
  }
}

function repeat(frame: Uint8Array, times: number): Uint8Array {
  const bytes = new Uint8Array(frame.length * times);
  for (let i = 0; i < times; i++) bytes.set(frame, i * frame.length);
  return bytes;
}

async function signedFrame(
  identity: Identity,
  init: Parameters<typeof signPacket>[0],
): Promise<Uint8Array> {
  return encodeFrame(
    encodePacket(await signPacket({ ttl: 60, ...init }, identity)),
  );
}

async function register(
  conn: Deno.Conn,
  identity: Identity,
  src: string,
): Promise<void> {
  await writeAll(
    conn,
    await signedFrame(identity, { id: "reg", src, dst: "server" }),
  );
  await readFrames(conn, 1);
}

function perConnection(before: number, after: number, count: number): string {
  return ((after - before) / count).toFixed(1);
}

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

async function throughput(port: number, identity: Identity): Promise<void> {
  const senders = await Promise.all(
    Array.from({ length: PAIRS }, () => connect(port)),
  );
  const receivers = await Promise.all(
    Array.from({ length: PAIRS }, () => connect(port)),
  );
  try {
    for (let i = 0; i < PAIRS; i++) {
      await register(receivers[i]!, identity, `bot:r${i}`);
      await register(senders[i]!, identity, `bot:s${i}`);
    }
    const floods = await Promise.all(
      senders.map(async (_, i) =>
        repeat(
          await signedFrame(identity, {
            id: `m${i}`,
            src: `bot:s${i}`,
            dst: `bot:r${i}`,
            body: BODY,
          }),
          500,
        )
      ),
    );
    const start = performance.now();
    const receiving = receivers.map((conn) =>
      readFrames(conn, PACKETS_PER_PAIR)
    );
    await Promise.all(senders.map(async (conn, i) => {
      for (let sent = 0; sent < PACKETS_PER_PAIR; sent += 500) {
        await writeAll(conn, floods[i]!);
      }
    }));
    await Promise.all(receiving);
    const seconds = (performance.now() - start) / 1000;
    const total = PAIRS * PACKETS_PER_PAIR;
    out(
      `forwarding: ${total} signed packets (${
        floods[0]!.length / 500
      } bytes each) over ${PAIRS} pairs`,
    );
    out(
      `  ${Math.round(total / seconds)} packets/s forwarded (${
        seconds.toFixed(2)
      } s)`,
    );
  } finally {
    for (const conn of [...senders, ...receivers]) conn.close();
  }
}

async function latency(port: number, identity: Identity): Promise<void> {
  const conn = await connect(port);
  try {
    const frames = await Promise.all(
      Array.from(
        { length: REQUESTS },
        (_, i) =>
          signedFrame(identity, { id: `q${i}`, dst: "server", body: "ping" }),
      ),
    );
    const samples: number[] = [];
    for (const frame of frames) {
      const start = performance.now();
      await writeAll(conn, frame);
      await readFrames(conn, 1);
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) =>
      samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    out(
      `request-reply to "server" (signed reply), ${REQUESTS} sequential requests on one connection:`,
    );
    out(
      `  p50 ${(at(0.5) * 1000).toFixed(0)} µs, p99 ${
        (at(0.99) * 1000).toFixed(0)
      } µs, max ${(at(1) * 1000).toFixed(0)} µs`,
    );
  } finally {
    conn.close();
  }
}

async function idleMemory(
  port: number,
  pid: number,
  identity: Identity,
): Promise<void> {
  const frames = await Promise.all(
    Array.from(
      { length: IDLE },
      (_, i) =>
        signedFrame(identity, {
          id: `i${i}`,
          src: `bot:idle-${i}`,
          dst: "server",
        }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const before = rssKiB(pid);
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < IDLE; i += 250) {
      const batch = await Promise.all(
        frames.slice(i, i + 250).map(async (frame) => {
          const conn = await connect(port);
          await writeAll(conn, frame);
          await readFrames(conn, 1); // registered: a listening agent
          return conn;
        }),
      );
      conns.push(...batch);
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const after = rssKiB(pid);
    out(`idle connections: ${conns.length} registered connections held open`);
    out(
      `  relay RSS ${(before / 1024).toFixed(1)} MiB -> ${
        (after / 1024).toFixed(1)
      } MiB: ${perConnection(before, after, conns.length)} KiB per connection`,
    );
    if (SETTLE_MS > 3_000) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS - 3_000));
      const settled = rssKiB(pid);
      out(
        `  after ${SETTLE_MS / 1000} s: relay RSS ${
          (settled / 1024).toFixed(1)
        } MiB: ${
          perConnection(before, settled, conns.length)
        } KiB per connection`,
      );
    }
  } finally {
    for (const conn of conns) conn.close();
  }
}

const dir = await Deno.makeTempDir();
const { child, port } = await startRelay(dir);
try {
  const identity = await Identity.generate();
  out(
    `knarr relay pid ${child.pid} on 127.0.0.1:${port}; ${navigator.hardwareConcurrency} CPUs; Deno ${Deno.version.deno}`,
  );
  if (!values["idle-only"]) {
    await latency(port, identity);
    await throughput(port, identity);
  }
  await idleMemory(port, child.pid, identity);
} finally {
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(dir, { recursive: true });
}
