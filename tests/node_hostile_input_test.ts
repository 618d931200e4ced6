import { assert, assertEquals, readVector } from "./assert.ts";
import { KnarrNode } from "../src/node/mod.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  signMessage,
  verifyMessage,
} from "../src/wire/mod.ts";
import { Identity } from "../src/crypto/mod.ts";

async function rawExchange(
  port: number,
  bytes: Uint8Array,
  waitMs = 2000,
): Promise<{ reply: Uint8Array; closed: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(bytes);
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    const deadline = setTimeout(() => conn.close(), waitMs);
    let closed = false;
    try {
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) {
          closed = true;
          break;
        }
        chunks.push(buf.slice(0, n));
        const total = chunks.reduce((s, c) => s + c.length, 0);
        const all = new Uint8Array(total);
        let o = 0;
        for (const c of chunks) {
          all.set(c, o);
          o += c.length;
        }
        if (total >= 4 && total >= 4 + new DataView(all.buffer).getUint32(0)) {
          return { reply: all, closed: false };
        }
      }
    } finally {
      clearTimeout(deadline);
    }
    return { reply: new Uint8Array(), closed };
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function assertStillServing(node: KnarrNode): Promise<void> {
  const me = await Identity.generate();
  const query = await signMessage(
    "QUERY",
    { query_type: "all", value: "" },
    me,
  );
  const { reply } = await rawExchange(
    node.address.port,
    encodeFrame(encodeMessage(query)),
  );
  const msg = decodeMessage(reply.subarray(4));
  assertEquals(msg.type, "QUERY_RESPONSE");
  assertEquals((await verifyMessage(msg)).status, "ok");
}

Deno.test("KnarrNode closes the connection without a reply on unsigned, forged or mismatched messages", async (t) => {
  await using node = await KnarrNode.create({ host: "127.0.0.1" });
  await node.start({ maintenance: false });
  const me = await Identity.generate();
  const other = await Identity.generate();
  const good = await signMessage(
    "QUERY",
    { query_type: "name", value: "echo" },
    me,
  );
  const cases: [string, Record<string, unknown>, string][] = [
    ["unsigned", { ...good, signature: "" }, "unsigned"],
    ["bad signature", { ...good, value: "tampered" }, "bad signature"],
    ["foreign key", { ...good, public_key: other.publicKey }, "bad signature"],
    [
      "node_id mismatch",
      await signMessage(
        "HEARTBEAT",
        { node_id: other.nodeId, timestamp: 1 },
        me,
      ) as unknown as Record<string, unknown>,
      "node_id mismatch",
    ],
  ];
  for (const [name, message, reason] of cases) {
    await t.step(name, async () => {
      const before = node.stats.rejected[reason] ?? 0;
      const { reply, closed } = await rawExchange(
        node.address.port,
        encodeFrame(encodeMessage(message)),
      );
      assertEquals(reply.length, 0);
      assert(closed);
      assertEquals(node.stats.rejected[reason], before + 1);
      await assertStillServing(node);
    });
  }
});

Deno.test("KnarrNode survives garbage, oversized frames and HTTP on the protocol port", async (t) => {
  await using node = await KnarrNode.create({ host: "127.0.0.1" });
  await node.start({ maintenance: false });
  const oversize = new Uint8Array(8);
  new DataView(oversize.buffer).setUint32(0, 1_048_577);
  const cases: [string, Uint8Array][] = [
    ["garbage JSON", encodeFrame(new TextEncoder().encode("{not json"))],
    ["JSON array", encodeFrame(new TextEncoder().encode("[1,2]"))],
    ["invalid UTF-8", encodeFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))],
    ["oversized frame", oversize],
    [
      "HTTP request",
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ],
    ["no type", encodeFrame(new TextEncoder().encode('{"msg_id": "x"}'))],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      const { reply, closed } = await rawExchange(node.address.port, bytes);
      assertEquals(reply.length, 0);
      assert(closed);
      await assertStillServing(node);
    });
  }
});

Deno.test("KnarrNode answers many messages on one connection, in order", async () => {
  await using node = await KnarrNode.create({ host: "127.0.0.1" });
  await node.start({ maintenance: false });
  const me = await Identity.generate();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: node.address.port,
  });
  try {
    const frames = await Promise.all(
      [1, 2, 3].map(async (i) =>
        encodeFrame(
          encodeMessage(
            await signMessage(
              "QUERY",
              { query_type: "name", value: `s${i}` },
              me,
            ),
          ),
        )
      ),
    );
    const all = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
    let o = 0;
    for (const f of frames) {
      all.set(f, o);
      o += f.length;
    }
    await conn.write(all);
    const seen: string[] = [];
    const buf = new Uint8Array(65536);
    let pending = new Uint8Array();
    while (seen.length < 3) {
      const n = await conn.read(buf);
      assert(n !== null);
      const merged = new Uint8Array(pending.length + n);
      merged.set(pending);
      merged.set(buf.subarray(0, n), pending.length);
      pending = merged;
      while (pending.length >= 4) {
        const len = new DataView(pending.buffer, pending.byteOffset).getUint32(
          0,
        );
        if (pending.length < 4 + len) break;
        seen.push(decodeMessage(pending.subarray(4, 4 + len)).type);
        pending = pending.slice(4 + len);
      }
    }
    assertEquals(seen, ["QUERY_RESPONSE", "QUERY_RESPONSE", "QUERY_RESPONSE"]);
  } finally {
    conn.close();
  }
});

Deno.test("KnarrNode answers the original implementation's JOIN_REQUEST and SYNC_REQUEST frames", async () => {
  interface Vec {
    vectors: { name: string; wire_json: string }[];
  }
  const vectors = readVector<Vec>("messages.json").vectors;
  await using node = await KnarrNode.create({ host: "127.0.0.1" });
  await node.start({ maintenance: false });
  const join = vectors.find((v) => v.name === "join_request")!;
  const { reply } = await rawExchange(
    node.address.port,
    encodeFrame(new TextEncoder().encode(join.wire_json)),
  );
  const response = decodeMessage(reply.subarray(4));
  assertEquals(response.type, "JOIN_RESPONSE");
  assertEquals((await verifyMessage(response)).status, "ok");
  // The original joiner is now our peer, at the address it sent.
  assertEquals(
    node.discovery.peers.list().map((p) => [p.nodeId, p.host, p.port]),
    [[
      "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c",
      "127.0.0.1",
      19002,
    ]],
  );
  const sync = vectors.find((v) => v.name === "sync_request")!;
  const syncReply = await rawExchange(
    node.address.port,
    encodeFrame(new TextEncoder().encode(sync.wire_json)),
  );
  assertEquals(
    decodeMessage(syncReply.reply.subarray(4)).type,
    "SYNC_RESPONSE",
  );
  // The original's ANNOUNCE (with a `uri` in the sheet) is accepted, acknowledged and stored.
  const announce = vectors.find((v) =>
    v.name === "announce_default_price_omitted"
  )!;
  const ack = decodeMessage(
    (await rawExchange(
      node.address.port,
      encodeFrame(new TextEncoder().encode(announce.wire_json)),
    )).reply.subarray(4),
  );
  assertEquals([ack.type, ack.status, ack.msg_id], [
    "ACK",
    "ok",
    "00000000-0000-4000-8000-000000000006",
  ]);
  assertEquals(node.discovery.skills.list().map((e) => e.skillKey), ["echo"]);
});
