import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { FrameConnection } from "./frame_connection.ts";
import { QueueBudget } from "./queue_budget.ts";

/** A connection whose writes never complete (a peer that stopped reading) and that sends nothing. */
function stuckConn(): Deno.Conn {
  let close!: () => void;
  const closed = new Promise<never>((_, reject) =>
    close = () => reject(new Deno.errors.BadResource("closed"))
  );
  closed.catch(() => {});
  return {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 },
    read: () => closed,
    write: () => closed,
    close,
  } as unknown as Deno.Conn;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("QueueBudget: over the total, the connection with the most bytes waiting is closed", async () => {
  const conns: FrameConnection[] = [];
  const budget = new QueueBudget(10_000, () => {
    const largest = conns.filter((c) => !c.closed)
      .sort((x, y) => y.waitingBytes - x.waitingBytes)[0];
    largest?.close("over the budget", "slow");
    return largest !== undefined;
  });
  const options = { queueBudget: budget };
  const a = new FrameConnection(stuckConn(), options);
  const b = new FrameConnection(stuckConn(), options);
  conns.push(a, b);
  const frame = new Uint8Array(1_000);
  // The first frame of each starts a write that never ends; the rest wait behind it.
  assert(a.sendFrame(frame) && b.sendFrame(frame));
  await tick();
  for (let i = 0; i < 5; i++) a.sendFrame(frame);
  assertEquals(budget.usedBytes, 5_000);
  for (let i = 0; i < 7; i++) b.sendFrame(frame);
  assertEquals(budget.usedBytes, 12_000);
  await tick();
  // b held 7,000 of the 12,000: it goes, a stays; its bytes leave the count.
  assertEquals([a.closed, b.closed, b.closeKind], [false, true, "slow"]);
  assertEquals(budget.usedBytes, 5_000);
  assertEquals(budget.overruns, 1);
  a.close();
  assertEquals(budget.usedBytes, 0);
});

Deno.test("QueueBudget refuses a limit that is not positive", () => {
  assertThrows(() => new QueueBudget(0, () => false), RangeError);
});
