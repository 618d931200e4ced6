import { assertEquals, assertStrictEquals } from "../../tests/assert.ts";
import { Inbox } from "./_inbox.ts";

Deno.test("Inbox.next() hands items in order and waits for the next push", async () => {
  const inbox = new Inbox<number>(10);
  inbox.push(1);
  assertStrictEquals(await inbox.next(), 1);
  const waiting = inbox.next();
  inbox.push(2);
  assertStrictEquals(await waiting, 2);
});

Deno.test("Inbox.push() drops the oldest item when full", async () => {
  const inbox = new Inbox<number>(2);
  assertEquals([inbox.push(1), inbox.push(2), inbox.push(3)], [
    true,
    true,
    false,
  ]);
  assertStrictEquals(inbox.dropped, 1);
  assertEquals([await inbox.next(), await inbox.next()], [2, 3]);
});

Deno.test("Inbox.next() resolves null on close and on abort", async () => {
  const inbox = new Inbox<number>(2);
  const controller = new AbortController();
  const aborted = inbox.next(controller.signal);
  controller.abort();
  assertStrictEquals(await aborted, null);
  inbox.push(7);
  const closing = [inbox.next(), inbox.next()];
  inbox.close();
  assertEquals(await Promise.all(closing), [7, null]);
});
