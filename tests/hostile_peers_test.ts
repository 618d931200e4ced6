/**
 * Regression tests for what `bench/hostile_peers.ts` found: each defect the benchmark exposed
 * under attack, reproduced small and fast.
 */
import type { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import { KnarrNode, MemoryNetwork, TcpTransport } from "../src/node/mod.ts";
import type { Transport } from "../src/node/mod.ts";
import { SidecarClient } from "../src/sidecar/mod.ts";
import { Logger } from "../src/util/mod.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  signMessage,
} from "../src/wire/mod.ts";
import { signedHead, startSidecar } from "./sidecar_helpers.ts";
import { exchangeFrame } from "./exchange_helpers.ts";

async function queryFrame(): Promise<Uint8Array> {
  const me = await Identity.generate();
  return encodeFrame(
    encodeMessage(await signMessage("QUERY", { query_type: "all" }, me)),
  );
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

Deno.test("SidecarClient requests do not wait for a delayed ACK (TCP_NODELAY under TLS)", async () => {
  await using sidecar = await startSidecar();
  const target = {
    nodeId: sidecar.node.nodeId,
    host: "127.0.0.1",
    port: sidecar.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  // The first request pins the certificate (node:tls); the later ones take the fast path.
  const { hash } = await client.upload(target, new Uint8Array(100).fill(1));
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    // A key of its own: one key's requests for one path wait for the next second (replays).
    const fresh = new SidecarClient({ identity: await Identity.generate() });
    const started = performance.now();
    assert((await fresh.head(target, hash)) === 100);
    times.push(performance.now() - started);
  }
  // With Nagle's algorithm on, every request waited for the 40 ms delayed ACK.
  assert(median(times) < 30, `median ${median(times).toFixed(1)} ms`);
});

Deno.test("KnarrNode admits a new peer while silent and slow-dripping connections hold its cap", async () => {
  await using node = await KnarrNode.create({
    host: "127.0.0.1",
    maxConnections: 8,
  });
  await node.start({ maintenance: false });
  const port = node.address.port;
  const hogs: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      // Half say nothing, half start a frame they never finish.
      if (i % 2 === 1) await conn.write(new Uint8Array([0, 0, 1]));
      hogs.push(conn);
    }
    await new Promise((r) => setTimeout(r, 100));
    // Before: refused at accept for as long as the hogs stayed (the idle timeout, 120 s). (A
    // newcomer from the hogs' own address is refused: it holds the most silent connections.)
    const answer = await exchangeFrame(port, await queryFrame(), "127.0.0.2");
    assertEquals(answer?.type, "QUERY_RESPONSE");
  } finally {
    for (const conn of hogs) conn.close();
  }
});

Deno.test("TcpTransport closes a connection that brings no whole first frame in time", async () => {
  let handled = 0;
  const listening = await new TcpTransport({ firstFrameTimeoutMs: 300 })
    .listen("127.0.0.1", 0, () => {
      handled++;
      return Promise.resolve(null);
    });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: listening.port,
  });
  try {
    const started = performance.now();
    await conn.write(new Uint8Array([0, 0, 0, 50]));
    // A byte every 50 ms: before, only the idle timeout (120 s) ended this.
    let closed = false;
    const reading = conn.read(new Uint8Array(8)).then(
      (n) => closed = n === null,
      () => closed = true,
    );
    while (!closed && performance.now() - started < 3_000) {
      await conn.write(new Uint8Array([0x20])).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
    await reading;
    assert(closed);
    assert(performance.now() - started < 2_000);
    assertEquals(handled, 0);
  } finally {
    conn.close();
    await listening.close();
  }
});

Deno.test("KnarrNode logs a flood of dropped messages as a few lines and a count", async () => {
  const lines: string[] = [];
  await using node = await KnarrNode.create({
    host: "127.0.0.1",
    logger: new Logger({ level: "info", sink: (l) => lines.push(l) }),
  });
  await node.start({ maintenance: false });
  const me = await Identity.generate();
  for (let i = 0; i < 40; i++) {
    const query = await signMessage("QUERY", {
      query_type: "name",
      value: `x${i}`,
    }, me);
    const forged = { ...query, value: "tampered" };
    assertEquals(
      await exchangeFrame(
        node.address.port,
        encodeFrame(encodeMessage(forged)),
      ),
      null,
    );
  }
  assertEquals(node.stats.rejected["bad signature"], 40);
  const dropped = lines.filter((l) => l.includes("Dropped message"));
  assertEquals(dropped.length, 10);
});

Deno.test("KnarrNode refuses JOIN/QUERY floods from one address past its rate, others still served", async () => {
  await using node = await KnarrNode.create({
    host: "127.0.0.1",
    requestRatePerAddress: { ratePerSecond: 1, burst: 5 },
  });
  await node.start({ maintenance: false });
  const port = node.address.port;
  const answers = [];
  for (let i = 0; i < 8; i++) {
    answers.push(
      (await exchangeFrame(port, await queryFrame()))?.type ?? "closed",
    );
  }
  assertEquals(answers, [
    ...Array(5).fill("QUERY_RESPONSE"),
    ...Array(3).fill("closed"),
  ]);
  assertEquals(node.stats.rejected["rate limited"], 3);
  // Before: every one answered, and a JOIN flood grew the peer table at the flood's rate.
  const other = await exchangeFrame(port, await queryFrame(), "127.0.0.2");
  assertEquals(other?.type, "QUERY_RESPONSE");
});

Deno.test("Discovery heartbeats a silent peer once per heartbeatAfter, at most 256 a round", async () => {
  const network = new MemoryNetwork();
  let heartbeats = 0;
  const transport: Transport = {
    exchange(to, body, options) {
      if (decodeMessage(body).type === "HEARTBEAT") heartbeats++;
      return network.exchange(to, body, options);
    },
    listen: (host, port, handler) => network.listen(host, port, handler),
  };
  let now = 1_000;
  await using node = await KnarrNode.create({
    transport,
    clock: { now: () => now },
    discovery: { minPeers: 0 },
  });
  await node.start({ maintenance: false });
  // What a JOIN flood leaves: a thousand peers at made-up addresses (nobody answers).
  for (let i = 0; i < 1_000; i++) {
    node.discovery.peers.upsert({
      nodeId: i.toString(16).padStart(64, "0"),
      host: `10.9.${i >> 8}.${i & 255}`,
      port: 9000,
    }, 1_000);
  }
  now = 1_100;
  const rounds: number[] = [];
  for (let round = 0; round < 6; round++) {
    const before = heartbeats;
    await node.discovery.tick();
    rounds.push(heartbeats - before);
    now += 1;
  }
  // Before: every round (each second) dialed all 1,000 until they expired at 300 s.
  assertEquals(rounds, [256, 256, 256, 232, 0, 0]);
  now = 1_100 + 91;
  await node.discovery.tick();
  assertEquals(heartbeats, 1_000 + 256);
});

/** A TLS connection to the sidecar from `localAddress` (node:tls over node:net). */
async function tlsFrom(
  localAddress: string,
  port: number,
  options: { allowHalfOpen?: boolean } = {},
): Promise<tls.TLSSocket> {
  const tcp = net.connect({
    host: "127.0.0.1",
    port,
    localAddress,
    allowHalfOpen: options.allowHalfOpen ?? false,
  });
  await new Promise((resolve, reject) => {
    tcp.once("connect", resolve);
    tcp.once("error", reject);
  });
  const socket = tls.connect({ socket: tcp, rejectUnauthorized: false });
  // Keep our side open after the server's FIN (node:tls types lack the option).
  if (options.allowHalfOpen) {
    (socket as unknown as { allowHalfOpen: boolean }).allowHalfOpen = true;
  }
  socket.on("error", () => {});
  await new Promise((resolve) => {
    socket.once("secureConnect", resolve);
    socket.once("close", resolve);
  });
  return socket;
}

/** Resolves with what the socket received once the server closes it (or "open" after `ms`). */
function answerOf(socket: tls.TLSSocket, ms: number): Promise<string> {
  let text = "";
  socket.on("data", (chunk: Buffer) => text += chunk.toString());
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(text);
    const timer = setTimeout(() => resolve("open"), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

Deno.test("SidecarServer ends an upload that trickles below the minimum rate with 408", async () => {
  await using sidecar = await startSidecar({
    server: { minUploadBytesPerSecond: 1_000, uploadGraceMs: 300 },
  });
  const socket = await tlsFrom("127.0.0.1", sidecar.port);
  const head = await signedHead(await Identity.generate(), "PUT", "/assets", {
    contentLength: 100_000,
    contentHash: "a".repeat(64),
  });
  socket.write(head);
  const answer = answerOf(socket, 5_000);
  // A byte every 100 ms: before, only the 300 s body timeout ended it.
  const drip = setInterval(() => socket.write("x"), 100);
  try {
    assertMatch(
      await answer,
      /^HTTP\/1\.1 408 [^]*slower than 1000 bytes a second/,
    );
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
});

Deno.test("SidecarServer caps connections per address and makes room for a download by closing the oldest unfinished request", async () => {
  await using sidecar = await startSidecar({
    server: { maxConnections: 2, maxConnectionsPerAddress: 3 },
  });
  const target = {
    nodeId: sidecar.node.nodeId,
    host: "127.0.0.1",
    port: sidecar.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  const { hash } = await client.upload(target, new Uint8Array(64).fill(7));
  // 4 × maxConnections = 8 admitted: fill them with unfinished heads from 3 addresses.
  const hogs: tls.TLSSocket[] = [];
  const ended: Promise<string>[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const socket = await tlsFrom(`127.0.0.${10 + (i % 3)}`, sidecar.port);
      socket.write("GET /assets HTTP/1.1\r\n");
      hogs.push(socket);
      ended.push(answerOf(socket, 10_000));
    }
    // A fourth connection from one address is over its cap.
    const extra = await tlsFrom("127.0.0.10", sidecar.port);
    assertEquals(await answerOf(extra, 5_000), "");
    // Only a request unfinished for a second gives way (an honest one sends its head at once).
    await new Promise((r) => setTimeout(r, 1_100));
    // Before: a ninth connection was closed at once, the honest download with it.
    const fresh = new SidecarClient({ identity: await Identity.generate() });
    const path = `${sidecar.dir}/copy.bin`;
    assertEquals(await fresh.download(target, hash, path), 64);
    assertEquals(await ended[0], "");
    assertEquals(sidecar.server.stats.evicted >= 1, true);
  } finally {
    for (const socket of hogs) socket.destroy();
  }
});

Deno.test("SidecarServer full of young connections from a few addresses makes room for a new address", async () => {
  await using sidecar = await startSidecar({
    server: { maxConnections: 2, maxConnectionsPerAddress: 4 },
  });
  const target = {
    nodeId: sidecar.node.nodeId,
    host: "127.0.0.1",
    port: sidecar.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  const { hash } = await client.upload(target, new Uint8Array(64).fill(7));
  const hogs: tls.TLSSocket[] = [];
  try {
    // 8 admitted (4 × maxConnections), 4 from each of two addresses, none a second old:
    // an address holding more than the newcomer's gives way after a quarter second.
    for (let i = 0; i < 8; i++) {
      const socket = await tlsFrom(`127.0.0.${20 + (i % 2)}`, sidecar.port);
      socket.write("GET /assets HTTP/1.1\r\n");
      hogs.push(socket);
    }
    await new Promise((r) => setTimeout(r, 300));
    // Before: a new address was refused until one of them was a second old.
    const fresh = new SidecarClient({ identity: await Identity.generate() });
    assertEquals(
      await fresh.download(target, hash, `${sidecar.dir}/copy.bin`),
      64,
    );
    assertEquals(sidecar.server.stats.evicted >= 1, true);
  } finally {
    for (const socket of hogs) socket.destroy();
  }
});

Deno.test("SidecarServer refusals do not hold request slots while they linger", async () => {
  await using sidecar = await startSidecar({ server: { maxConnections: 2 } });
  const signer = await Identity.generate();
  const put = (hash: string) =>
    signedHead(signer, "PUT", "/assets", {
      contentLength: 10,
      contentHash: hash.repeat(64),
    });
  // One upload waits for its body: the one upload slot of maxConnections 2 is taken.
  const holder = await tlsFrom("127.0.0.1", sidecar.port);
  holder.write(await put("a"));
  await new Promise((r) => setTimeout(r, 100));
  // Refused uploads that keep their side open (the server lingers a second for them).
  const refused: tls.TLSSocket[] = [];
  const answers: string[] = [];
  try {
    for (const hash of ["b", "c", "d"]) {
      const socket = await tlsFrom("127.0.0.1", sidecar.port, {
        allowHalfOpen: true,
      });
      let text = "";
      socket.on("data", (chunk: Buffer) => text += chunk.toString());
      socket.on("end", () => answers.push(text));
      socket.write(await put(hash));
      refused.push(socket);
    }
    await new Promise((r) => setTimeout(r, 200));
    // Before: each lingering refusal still counted as a request served, so this was a 503.
    const list = await tlsFrom("127.0.0.1", sidecar.port);
    const listed = answerOf(list, 5_000);
    list.write(await signedHead(signer, "GET", "/assets"));
    assertMatch(await listed, /^HTTP\/1\.1 200 /);
    assertEquals(answers.length, 3);
    for (const answer of answers) {
      assertMatch(answer, /^HTTP\/1\.1 503 [^]*Too many uploads/);
    }
  } finally {
    holder.destroy();
    for (const socket of refused) socket.destroy();
  }
});

Deno.test("SidecarServer closes at accept, for a second, an address told 503 over and over", async () => {
  await using sidecar = await startSidecar({ server: { maxConnections: 2 } });
  const signer = await Identity.generate();
  const put = (i: number) =>
    signedHead(signer, "PUT", "/assets", {
      contentLength: 10,
      contentHash: i.toString(16).padStart(64, "0"),
    });
  // The one upload slot is taken.
  const holder = await tlsFrom("127.0.0.1", sidecar.port);
  holder.write(await put(1000));
  await new Promise((r) => setTimeout(r, 100));
  const answers: string[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const socket = await tlsFrom("127.0.0.50", sidecar.port);
      const answer = answerOf(socket, 5_000);
      if (!socket.destroyed) socket.write(await put(i));
      answers.push((await answer).split("\r\n")[0]!);
    }
    // Nine "try again" answers within the second, then closed before any TLS handshake.
    assertEquals(
      answers.slice(0, 9),
      Array(9).fill("HTTP/1.1 503 Service Unavailable"),
    );
    assertEquals(answers[9], "");
    assertEquals(sidecar.server.stats.backedOff, 1);
    // Other addresses are served.
    const list = await tlsFrom("127.0.0.51", sidecar.port);
    const listed = answerOf(list, 5_000);
    list.write(await signedHead(signer, "GET", "/assets"));
    assertMatch(await listed, /^HTTP\/1\.1 200 /);
  } finally {
    holder.destroy();
  }
});

Deno.test("SidecarServer logs an uploader that hangs up mid-body at debug level, not as a store failure", async () => {
  const lines: string[] = [];
  await using sidecar = await startSidecar({
    deps: { logger: new Logger({ level: "info", sink: (l) => lines.push(l) }) },
  });
  for (let i = 0; i < 3; i++) {
    const socket = await tlsFrom("127.0.0.1", sidecar.port);
    socket.write(
      await signedHead(await Identity.generate(), "PUT", "/assets", {
        contentLength: 100_000,
        contentHash: "c".repeat(64),
      }),
    );
    socket.write("part of the body");
    await new Promise((r) => setTimeout(r, 50));
    // Gone without a TLS close_notify, as a killed client or a flood's connection.
    socket.destroy();
  }
  await new Promise((r) => setTimeout(r, 200));
  // Before: "Sidecar: cannot store upload: peer closed connection without sending TLS
  // close_notify" at warn level for every one, and a 500 as if the disk had failed.
  assertEquals(lines, []);
  assertEquals(sidecar.server.stats.responses[500], undefined);
  assertEquals(sidecar.server.stats.responses[400], 3);
});
