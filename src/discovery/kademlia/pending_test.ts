import { assertEquals } from "../../../tests/assert.ts";
import { FakeTime } from "./_testing.ts";
import { PendingRequests } from "./_pending.ts";
import type { KadResponse } from "./rpc_codec.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const reply: KadResponse = {
  action: "FIND_NODE_RESP",
  requestId: "r1",
  peers: [],
};

Deno.test("PendingRequests.settle() matches request id and sender; the deadline resolves null", async () => {
  const time = new FakeTime();
  const pending = new PendingRequests(time);
  const waiting = pending.wait("r1", A, 1000);
  assertEquals(
    pending.settle("r1", B, reply),
    false,
    "another sender cannot answer",
  );
  assertEquals(
    pending.settle("r2", A, reply),
    false,
    "another id settles nothing",
  );
  assertEquals(pending.settle("r1", A, reply), true);
  assertEquals(await waiting, reply);
  assertEquals(pending.settle("r1", A, reply), false, "settled once");
  const late = pending.wait("r3", A, 1000);
  time.advance(999);
  assertEquals(pending.size, 1);
  time.advance(1);
  assertEquals(await late, null);
  assertEquals([pending.size, time.pending], [0, 0]);
});

Deno.test("PendingRequests resolves null on abort and on cancelAll()", async () => {
  const time = new FakeTime();
  const pending = new PendingRequests(time);
  const controller = new AbortController();
  const aborted = pending.wait("r1", A, 1000, controller.signal);
  const cancelled = pending.wait("r2", A, 1000);
  controller.abort();
  pending.cancelAll();
  assertEquals([await aborted, await cancelled], [null, null]);
  assertEquals(time.pending, 0);
});
