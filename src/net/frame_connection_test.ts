import {
  assert,
  assertEquals,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { encodeFrame, FrameConnection } from "./mod.ts";
import type { FrameConnectionOptions } from "./mod.ts";

/** A scripted socket: reads come from `incoming`, writes are recorded (and may hang). */
class FakeConn {
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 9 };
  readonly writes: Uint8Array[] = [];
  incoming: Uint8Array[] = [];
  /** Writes never complete while true. */
  stalled = false;
  closed = false;
  #parked: ((error: Error) => void)[] = [];

  read(buffer: Uint8Array): Promise<number | null> {
    const next = this.incoming.shift();
    if (next === undefined) return this.#park();
    buffer.set(next);
    return Promise.resolve(next.length);
  }

  write(bytes: Uint8Array): Promise<number> {
    this.writes.push(bytes.slice());
    return this.stalled ? this.#park() : Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
    for (const fail of this.#parked.splice(0)) fail(new Error("closed"));
  }

  #park<T>(): Promise<T> {
    return new Promise((_, reject) => this.#parked.push(reject));
  }
}

function open(options: FrameConnectionOptions = {}) {
  const fake = new FakeConn();
  const clock = { t: 0, now: () => clock.t };
  const closes: string[] = [];
  const conn = new FrameConnection(fake as unknown as Deno.Conn, {
    clock,
    onClose: (c) => closes.push(`${c.closeKind}: ${c.closeReason}`),
    ...options,
  });
  return { fake, clock, conn, closes };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("FrameConnection.sendFrame() sends the frames queued in one tick in one write", async (t) => {
  await t.step(
    "consecutive frames of one buffer go out as that buffer",
    async () => {
      const { fake, conn } = open();
      const received = new Uint8Array([0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9]);
      assert(conn.sendFrame(received.subarray(0, 5)));
      assert(conn.sendFrame(received.subarray(5)));
      assertStrictEquals(
        fake.writes.length,
        0,
        "nothing written before the tick ends",
      );
      await conn.drained();
      assertEquals(fake.writes, [received]);
    },
  );
  await t.step("frames of different buffers are gathered", async () => {
    const { fake, conn } = open();
    await Promise.all([
      conn.send(new Uint8Array([1])),
      conn.send(new Uint8Array([2, 3])),
    ]);
    assertEquals(fake.writes, [
      new Uint8Array([0, 0, 0, 1, 1, 0, 0, 0, 2, 2, 3]),
    ]);
  });
});

Deno.test("FrameConnection queue caps count only the backlog behind a write in progress", async () => {
  const { fake, conn, closes } = open({ maxQueueFrames: 2 });
  fake.stalled = true;
  const frame = encodeFrame(new Uint8Array(10));
  // Queued while the socket is free: all of them form the first write.
  for (let i = 0; i < 5; i++) assert(conn.sendFrame(frame));
  await tick();
  assertStrictEquals(fake.writes.length, 1);
  assert(conn.sendFrame(frame));
  assert(conn.sendFrame(frame));
  assert(!conn.sendFrame(frame), "a third frame waiting is too many");
  assert(conn.closed);
  assertEquals(closes, [
    "slow: outbound queue full (2 frames, 28 bytes waiting)",
  ]);
  await assertRejects(
    () => conn.send(new Uint8Array(1)),
    Deno.errors.BrokenPipe,
  );
});

Deno.test("FrameConnection.enforceDeadlines() closes on the write, handshake and idle deadlines", async (t) => {
  await t.step("a write that takes too long", async () => {
    const { fake, clock, conn, closes } = open({ writeTimeoutMs: 100 });
    fake.stalled = true;
    const written = conn.send(new Uint8Array(1));
    await tick();
    clock.t = 100;
    conn.enforceDeadlines(clock.t);
    assert(!conn.closed);
    clock.t = 101;
    conn.enforceDeadlines(clock.t);
    await assertRejects(() => written, Deno.errors.BrokenPipe);
    assertEquals(closes, ["write_timeout: a write took longer than 100 ms"]);
  });
  await t.step("no handshake in time, unless completed", () => {
    const late = open({ handshakeTimeoutMs: 50 });
    const done = open({ handshakeTimeoutMs: 50 });
    done.conn.completeHandshake();
    late.conn.enforceDeadlines(51);
    done.conn.enforceDeadlines(51);
    assertEquals(late.closes, ["handshake_timeout: no handshake within 50 ms"]);
    assertEquals(done.closes, []);
  });
  await t.step("idle only while waiting for a frame", async () => {
    const { clock, conn, closes } = open({ idleTimeoutMs: 50 });
    conn.enforceDeadlines(1_000);
    assertEquals(closes, [], "not reading: not idle");
    clock.t = 1_000;
    const reading = conn.readFrame();
    conn.enforceDeadlines(1_051);
    assertStrictEquals(await reading, null);
    assertEquals(closes, ["idle: idle timeout"]);
  });
});

Deno.test("FrameConnection.readFrame() stops at a malformed frame while writes go on", async () => {
  const { fake, conn } = open({ minFrameBytes: 1, maxFrameBytes: 100 });
  fake.incoming = [
    new Uint8Array([0, 0, 0, 1, 42, 0, 0, 0, 0]),
  ];
  assertEquals(await conn.readFrame(), new Uint8Array([0, 0, 0, 1, 42]));
  assertStrictEquals(await conn.readFrame(), null);
  assertStrictEquals(conn.readEnd, "malformed");
  assertStrictEquals(
    conn.closeReason,
    'Cannot read frame from "127.0.0.1:9": length 0 is outside 1 to 100',
  );
  assert(!conn.closed);
  await conn.send(new Uint8Array([1]));
  assertStrictEquals(fake.writes.length, 1);
  conn.close();
  assert(fake.closed);
});

Deno.test("FrameConnection.frames() yields body copies until the connection closes", async () => {
  const { fake, conn, closes } = open();
  fake.incoming = [
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 2, 5]),
    new Uint8Array([6]),
  ];
  const bodies: Uint8Array[] = [];
  const reading = (async () => {
    for await (const body of conn.frames()) bodies.push(body);
  })();
  await tick();
  assertEquals(bodies, [new Uint8Array(0), new Uint8Array([5, 6])]);
  conn.close("done");
  await reading;
  assertEquals(closes, ["normal: done"]);
});

Deno.test("FrameConnection.waitForFrame() hands each frame to the callback, then null at the end", async () => {
  const { fake, conn } = open();
  fake.incoming = [
    new Uint8Array([0, 0, 0, 1, 7, 0, 0]),
    new Uint8Array([0, 1, 8]),
  ];
  const got: (number[] | null)[] = [];
  const ended = Promise.withResolvers<void>();
  const callback = (c: FrameConnection, frame: Uint8Array | null) => {
    assertStrictEquals(c, conn);
    got.push(frame === null ? null : [...frame]);
    if (frame === null) ended.resolve();
    else c.waitForFrame(callback);
  };
  conn.waitForFrame(callback);
  await tick();
  assertEquals(got, [[0, 0, 0, 1, 7], [0, 0, 0, 1, 8]]);
  conn.close();
  await ended.promise;
  assertEquals(got.at(-1), null);
  assertStrictEquals(conn.readEnd, "failed");
});

Deno.test("FrameConnection.waitForFrame() closes the connection when the callback throws", async () => {
  const { fake, conn, closes } = open();
  fake.incoming = [new Uint8Array([0, 0, 0, 1, 7])];
  conn.waitForFrame(() => {
    throw new Error("boom");
  });
  await tick();
  assertEquals(closes, ["normal: Cannot handle frame: boom"]);
});

Deno.test("FrameConnection.sendFrame() writes again after its queue drained", async () => {
  const { fake, conn } = open();
  assert(conn.sendFrame(new Uint8Array([0, 0, 0, 1, 1])));
  await conn.drained();
  assertStrictEquals(conn.queuedFrames, 0);
  await conn.send(new Uint8Array([2]));
  assertEquals(fake.writes, [
    new Uint8Array([0, 0, 0, 1, 1]),
    new Uint8Array([0, 0, 0, 1, 2]),
  ]);
});
