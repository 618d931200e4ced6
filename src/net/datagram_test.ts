import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { datagramExchange } from "./datagram.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A UDP responder on 127.0.0.1 answering each request `answers` times. */
function responder(answers: number) {
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  const done = (async () => {
    try {
      for await (const [data, from] of socket) {
        for (let i = 0; i < answers; i++) {
          await socket.send(
            encoder.encode(`re ${i}: ${decoder.decode(data)}`),
            from,
          );
        }
      }
    } catch { /* closed */ }
  })();
  return {
    port: (socket.addr as Deno.NetAddr).port,
    async close() {
      socket.close();
      await done;
    },
  };
}

Deno.test("datagramExchange() yields every reply until the deadline", async () => {
  const echo = responder(2);
  try {
    const got: string[] = [];
    const began = performance.now();
    for await (
      const reply of datagramExchange(encoder.encode("hi"), {
        host: "127.0.0.1",
        port: echo.port,
      }, { localHost: "127.0.0.1", timeoutMs: 300, repeat: 1 })
    ) {
      assertEquals(reply.host, "127.0.0.1");
      assertEquals(reply.port, echo.port);
      got.push(decoder.decode(reply.data));
    }
    assertEquals(got, ["re 0: hi", "re 1: hi"]);
    assertEquals(performance.now() - began >= 250, true);
  } finally {
    await echo.close();
  }
});

Deno.test("datagramExchange() stops when the caller breaks or aborts", async (t) => {
  const echo = responder(5);
  try {
    await t.step("break closes the socket at once", async () => {
      const began = performance.now();
      for await (
        const _ of datagramExchange(encoder.encode("x"), {
          host: "127.0.0.1",
          port: echo.port,
        }, { localHost: "127.0.0.1", timeoutMs: 5_000 })
      ) break;
      assertEquals(performance.now() - began < 2_000, true);
    });
    await t.step("an aborted signal ends the replies", async () => {
      const stop = new AbortController();
      const replies = datagramExchange(encoder.encode("x"), {
        host: "127.0.0.1",
        port: 9,
      }, { localHost: "127.0.0.1", timeoutMs: 5_000, signal: stop.signal });
      setTimeout(() => stop.abort(), 50);
      const got = [];
      for await (const reply of replies) got.push(reply);
      assertEquals(got, []);
    });
  } finally {
    await echo.close();
  }
});

Deno.test("datagramExchange() rejects with one line when it cannot bind", async () => {
  await assertRejects(
    async () => {
      for await (
        const _ of datagramExchange(new Uint8Array(1), {
          host: "127.0.0.1",
          port: 9,
        }, { localHost: "203.0.113.250" })
      ) { /* nothing */ }
    },
    /^Error: Cannot open a UDP socket on "203\.0\.113\.250": /,
  );
});
