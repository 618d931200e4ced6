/** The relay's batched forwarding path over real sockets: bursts read at once, in order. */
import { Identity } from "../src/crypto/mod.ts";
import { bytesToHex } from "../src/util/mod.ts";
import { assertEquals, assertStrictEquals } from "./assert.ts";
import { concat } from "./frame_helpers.ts";
import { RawPeer, signedFrame, startRelay } from "./relay_helpers.ts";

const key = await Identity.generate();

Deno.test("RelayServer forwards a burst written at once as received, in order, and answers in order", async () => {
  await using relay = await startRelay();
  using receiver = await RawPeer.connect(relay.port);
  await receiver.send(key, { id: "reg", src: "bot:r", dst: "server" });
  assertStrictEquals((await receiver.readPacket()).body, "done");
  using sender = await RawPeer.connect(relay.port);
  // More frames than one batch, forwards and requests mixed, all in one write.
  const frames = await Promise.all(
    Array.from({ length: 600 }, (_, i) =>
      signedFrame(key, {
        id: `m${i}`,
        src: "bot:s",
        dst: i % 3 === 0 ? "server" : "bot:r",
        body: "x".repeat(i % 50),
      })),
  );
  await sender.write(concat(...frames));
  const forwarded = frames.filter((_, i) => i % 3 !== 0);
  for (const frame of forwarded) {
    assertStrictEquals(
      bytesToHex(await receiver.readFrame()),
      bytesToHex(frame),
    );
  }
  const replies: string[] = [];
  for (let i = 0; i < 200; i++) replies.push((await sender.readPacket()).id);
  assertEquals(
    replies,
    Array.from({ length: 200 }, (_, i) => `m${i * 3}`),
  );
  assertStrictEquals(relay.metrics.forwarded, 400);
});
