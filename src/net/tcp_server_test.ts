import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import {
  connect,
  dial,
  encodeFrame,
  FrameConnection,
  NetTimeoutError,
  TcpServer,
  withDeadline,
} from "./mod.ts";
import type { FrameConnectionOptions } from "./mod.ts";
import net from "node:net";

function echoServer(
  options: Partial<Parameters<typeof TcpServer.listen>[0]> = {},
): TcpServer {
  return TcpServer.listen(
    { hostname: "127.0.0.1", port: 0, ...options },
    async (conn) => {
      for await (const body of conn.frames()) await conn.send(body);
    },
  );
}

/** A connection from `localAddress` that sends nothing; `closed` resolves when the server closes it. */
async function silentFrom(localAddress: string, port: number) {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {});
  const closed = new Promise<true>((resolve) =>
    socket.on("close", () => resolve(true))
  );
  await new Promise((resolve) => socket.once("connect", resolve));
  return { closed, destroy: () => socket.destroy() };
}

async function closedWithoutData(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const n = await conn.read(new Uint8Array(16)).catch(() => null);
    return n === null;
  } finally {
    conn.close();
  }
}

Deno.test("TcpServer echoes frames and serializes concurrent sends into whole frames", async () => {
  await using server = echoServer();
  const conn = await dial("127.0.0.1", server.port);
  try {
    const bodies = Array.from(
      { length: 50 },
      (_, i) => new TextEncoder().encode(`message ${i} `.repeat(i + 1)),
    );
    await Promise.all(bodies.map((b) => conn.send(b)));
    for (const body of bodies) assertEquals(await conn.readOne(), body);
  } finally {
    conn.close();
  }
});

Deno.test("TcpServer closes connections beyond maxConnections and per-address caps at accept", async () => {
  await using server = echoServer({ maxConnections: 2 });
  const a = await dial("127.0.0.1", server.port);
  const b = await dial("127.0.0.1", server.port);
  try {
    await a.send(new Uint8Array([1]));
    await b.send(new Uint8Array([2]));
    await a.readOne();
    await b.readOne();
    assert(await closedWithoutData(server.port));
    assertEquals(server.stats.refusedTotal, 1);
  } finally {
    a.close();
    b.close();
  }
  await using perAddress = echoServer({ maxConnectionsPerAddress: 1 });
  const c = await dial("127.0.0.1", perAddress.port);
  try {
    await c.send(new Uint8Array([3]));
    await c.readOne();
    assert(await closedWithoutData(perAddress.port));
    assertEquals(perAddress.stats.refusedPerAddress, 1);
  } finally {
    c.close();
  }
});

Deno.test("TcpServer closes idle connections and oversized frames", async () => {
  await using server = echoServer({ idleTimeoutMs: 100 });
  assert(await closedWithoutData(server.port)); // sends nothing: idles out
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 1_048_577);
    await conn.write(header);
    assertEquals(await conn.read(new Uint8Array(8)).catch(() => null), null);
  } finally {
    conn.close();
  }
});

Deno.test("TcpServer accepts a body of exactly 1 MiB", async () => {
  await using server = echoServer();
  const conn = await dial("127.0.0.1", server.port);
  try {
    const body = new Uint8Array(1_048_576).fill(7);
    await conn.send(body);
    assertEquals((await conn.readOne())?.length, 1_048_576);
  } finally {
    conn.close();
  }
  assertEquals(encodeFrame(new Uint8Array(3)).length, 7);
});

Deno.test("TcpServer.listen() names the address and the fix when the port is taken", async () => {
  await using server = echoServer();
  let message = "";
  try {
    TcpServer.listen(
      { hostname: "127.0.0.1", port: server.port },
      () => Promise.resolve(),
    );
  } catch (error) {
    message = (error as Error).message;
  }
  assertEquals(
    message,
    `Cannot listen on "127.0.0.1:${server.port}": address in use; stop the other process or choose another port`,
  );
});

Deno.test("withDeadline() rejects with NetTimeoutError and closes the connection", async () => {
  await using server = TcpServer.listen(
    { hostname: "127.0.0.1", port: 0 },
    async (conn) => {
      for await (const _ of conn.frames()) { /* never answers */ }
    },
  );
  const conn = await dial("127.0.0.1", server.port);
  await conn.send(new Uint8Array([1]));
  await assertRejects(
    () => withDeadline(conn.readOne(), 50, conn, "Request"),
    NetTimeoutError,
  );
  assert(conn.closed);
});

Deno.test("TcpServer applies a protocol's own limits and reports refusals and closes", async () => {
  const refused: string[] = [];
  const closed: string[] = [];
  await using server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 2,
    minFrameBytes: 1,
    maxFrameBytes: 16,
    idleTimeoutMs: 0,
    handshakeTimeoutMs: 60,
    onRefused: (_, limit) => refused.push(limit),
    onClose: (conn) => closed.push(`${conn.closeKind}`),
  }, async (conn: FrameConnection) => {
    for (
      let f = await conn.readFrame();
      f !== null;
      f = await conn.readFrame()
    ) {
      conn.completeHandshake();
      conn.sendFrame(f);
    }
  });
  const greeted = await connect("127.0.0.1", server.port);
  const silent = await connect("127.0.0.1", server.port);
  try {
    await greeted.send(new Uint8Array([1]));
    assertEquals(await greeted.readOne(), new Uint8Array([1]));
    assert(await closedWithoutData(server.port));
    assertEquals(refused, ["total"]);
    // The silent one misses the handshake deadline; the greeted one stays.
    assertStrictEquals(await silent.readFrame(), null);
    assertEquals(closed, ["handshake_timeout"]);
    assertStrictEquals(server.connectionCount, 1);
    // An empty frame is below this protocol's minimum.
    await greeted.send(new Uint8Array(0));
    assertStrictEquals(await greeted.readFrame(), null);
    assertEquals(closed, ["handshake_timeout", "normal"]);
  } finally {
    greeted.close();
    silent.close();
  }
});

Deno.test("TcpServer makes connections of the given class, owned by a handler that returns nothing", async () => {
  class Counted extends FrameConnection {
    received = 0;
  }
  const ended = Promise.withResolvers<Counted>();
  const onFrame = (c: FrameConnection, frame: Uint8Array | null) => {
    const conn = c as Counted;
    if (frame === null) return ended.resolve(conn);
    conn.received++;
    conn.sendFrame(frame);
    conn.waitForFrame(onFrame);
  };
  await using server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    connectionClass: Counted,
    retainFrames: true,
  }, (conn) => {
    assert(conn instanceof Counted);
    conn.waitForFrame(onFrame);
  });
  const client = await dial("127.0.0.1", server.port);
  await client.send(new Uint8Array([1]));
  await client.send(new Uint8Array([2, 3]));
  assertEquals(await client.readOne(), new Uint8Array([1]));
  assertEquals(await client.readOne(), new Uint8Array([2, 3]));
  client.close();
  const conn = await ended.promise;
  assertEquals([conn.received, conn.readEnd], [2, "eof"]);
  assertStrictEquals(server.connectionCount, 1, "the handler owns it");
  conn.close();
  assertStrictEquals(server.connectionCount, 0);
});

Deno.test("connect() names the address when refused and rejects with the abort reason", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assertRejects(() => connect("127.0.0.1", port), {
    message: `Cannot connect to "127.0.0.1:${port}": connection refused`,
  });
  const reason = new Error("stop");
  await assertRejects(
    () => connect("127.0.0.1", port, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  await assertRejects(() => dial("127.0.0.1", port), {
    message:
      `Cannot connect to "127.0.0.1:${port}": connection refused (is a node running there?)`,
  });
});

Deno.test("TcpServer with evictWhenFull makes room by closing the connection waiting longest, silent ones first", async () => {
  await using server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 2,
    evictWhenFull: true,
    handshakeTimeoutMs: 10_000,
  }, async (conn) => {
    for await (const body of conn.frames()) {
      conn.completeHandshake();
      await conn.send(body);
    }
  });
  const until = async (open: number) => {
    while (server.connectionCount !== open || server.stats.accepted < open) {
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  // `talker` sent a frame and waits for its next one; `silent` never sent anything.
  const talker = await dial("127.0.0.1", server.port);
  await talker.send(new Uint8Array([1]));
  await talker.readOne();
  const silent = await silentFrom("127.0.0.2", server.port);
  await until(2);
  const newcomer = await dial("127.0.0.1", server.port);
  try {
    await newcomer.send(new Uint8Array([2]));
    assertEquals(await newcomer.readOne(), new Uint8Array([2]));
    assert(await silent.closed);
    assertEquals(server.stats.evicted, 1);
    assertEquals(server.stats.refusedTotal, 0);
    // Now both wait after a frame: the one waiting longest (talker) gives way.
    const last = await dial("127.0.0.1", server.port);
    await last.send(new Uint8Array([3]));
    assertEquals(await last.readOne(), new Uint8Array([3]));
    assertEquals(await talker.readOne(), null);
    assertEquals(server.stats.evicted, 2);
    last.close();
  } finally {
    talker.close();
    silent.destroy();
    newcomer.close();
  }
});

Deno.test("TcpServer with evictWhenFull refuses a newcomer from the address holding the most silent connections", async () => {
  await using server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 5,
    evictWhenFull: true,
    handshakeTimeoutMs: 10_000,
  }, async (conn) => {
    for await (const body of conn.frames()) {
      conn.completeHandshake();
      await conn.send(body);
    }
  });
  const hogs = [];
  for (const from of ["2", "2", "2", "3", "4"]) {
    hogs.push(await silentFrom(`127.0.0.${from}`, server.port));
  }
  try {
    while (server.stats.accepted < 5) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // Before: each was accepted, read from and took the place of another silent connection
    // (a flood from many addresses churned through accept, read and eviction). Now an
    // address holding the most (3), or within one of it, is refused at accept.
    for (const from of ["2", "2"]) {
      const more = await silentFrom(`127.0.0.${from}`, server.port);
      assert(await more.closed);
    }
    assertEquals(server.stats, {
      ...server.stats,
      accepted: 5,
      refusedTotal: 2,
      evicted: 0,
    });
    // An address holding one (3 behind the most) takes the place of the flooder's oldest.
    const other = await silentFrom("127.0.0.3", server.port);
    assert(await hogs[0]!.closed);
    assertEquals(server.stats.evicted, 1);
    // Now 2, 2 and 1: the address holding one is within one of the most.
    const refused = await silentFrom("127.0.0.4", server.port);
    assert(await refused.closed);
    assertEquals(server.stats.evicted, 1);
    other.destroy();
  } finally {
    for (const hog of hogs) hog.destroy();
  }
});

Deno.test("TcpServer without evictWhenFull refuses the newcomer and keeps the silent connections", async () => {
  await using server = echoServer({ maxConnections: 1 });
  const silent = await dial("127.0.0.1", server.port);
  try {
    while (server.stats.accepted < 1) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert(await closedWithoutData(server.port));
    assertEquals(server.stats.evicted, 0);
    assertEquals(server.stats.refusedTotal, 1);
  } finally {
    silent.close();
  }
});

/** A connection whose writes hang while `stall.on` (as when the server cannot get to them). */
class StallableConnection extends FrameConnection {
  stall: { on: boolean };

  constructor(raw: Deno.Conn, options: FrameConnectionOptions) {
    const stall = { on: false };
    const conn = {
      get remoteAddr() {
        return raw.remoteAddr;
      },
      read: (buffer: Uint8Array) => raw.read(buffer),
      write: (bytes: Uint8Array) =>
        stall.on ? new Promise<number>(() => {}) : raw.write(bytes),
      close: () => raw.close(),
    };
    super(conn as unknown as Deno.Conn, options);
    this.stall = stall;
  }
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stallServer(count: number) {
  const closes: string[] = [];
  const conns: StallableConnection[] = [];
  const server = TcpServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 100,
    idleTimeoutMs: 0,
    writeTimeoutMs: 50,
    sweepIntervalMs: 10,
    connectionClass: StallableConnection,
    onClose: (conn) => closes.push(`${conn.closeKind}`),
  }, (conn) => void conns.push(conn));
  const clients = await Promise.all(
    Array.from(
      { length: count },
      () => Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    ),
  );
  for (let i = 0; i < 1_000 && conns.length < count; i++) await sleepMs(5);
  assertStrictEquals(conns.length, count);
  return { server, conns, clients, closes };
}

Deno.test("TcpServer leaves the write deadline out while writes to many connections are overdue at once (overload, relay soak)", async () => {
  const { server, conns, clients, closes } = await stallServer(20);
  try {
    for (const conn of conns) {
      conn.stall.on = true;
      assert(conn.sendFrame(encodeFrame(new Uint8Array([1]))));
    }
    await sleepMs(300);
    assertEquals(closes, []);
    assertStrictEquals(server.connectionCount, 20);
    assert(server.stats.overloadedSweeps > 0);
  } finally {
    for (const client of clients) client.close();
    await server.close();
  }
});

Deno.test("TcpServer still closes the one connection whose write is overdue among many", async () => {
  const { server, conns, clients, closes } = await stallServer(20);
  try {
    conns[3]!.stall.on = true;
    for (const conn of conns) {
      assert(conn.sendFrame(encodeFrame(new Uint8Array([1]))));
    }
    for (let i = 0; i < 500 && closes.length === 0; i++) await sleepMs(10);
    assertEquals(closes, ["write_timeout"]);
    assert(conns[3]!.closed);
    assertStrictEquals(server.connectionCount, 19);
    assertStrictEquals(server.stats.overloadedSweeps, 0);
  } finally {
    for (const client of clients) client.close();
    await server.close();
  }
});
