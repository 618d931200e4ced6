import { assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { httpText } from "./http_text.ts";

function serving(response: () => Response): typeof fetch {
  return () => Promise.resolve(response());
}

Deno.test("httpText() returns the body of an accepted status", async () => {
  const fetch = serving(() => new Response("<fault/>", { status: 500 }));
  assertStrictEquals(
    await httpText("http://10.0.0.1/c", { method: "POST" }, {
      fetch,
      statuses: [200, 500],
    }),
    "<fault/>",
  );
});

Deno.test("httpText() rejects with one line", async (t) => {
  await t.step("another status", async () => {
    await assertRejects(
      () =>
        httpText("http://10.0.0.1/d", {}, {
          fetch: serving(() => new Response("no", { status: 404 })),
        }),
      /^Error: HTTP GET http:\/\/10\.0\.0\.1\/d answered 404$/,
    );
  });
  await t.step("a body over the cap, streamed", async () => {
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024));
      },
    });
    await assertRejects(
      () =>
        httpText("http://10.0.0.1/d", {}, {
          fetch: serving(() => new Response(endless)),
          maxBytes: 4096,
        }),
      /^RangeError: HTTP GET http:\/\/10\.0\.0\.1\/d answered more than 4096 bytes$/,
    );
  });
  await t.step("a network error or the deadline, with its reason", async () => {
    await assertRejects(
      () =>
        httpText("http://10.0.0.1/d", {}, {
          fetch: () => Promise.reject(new TypeError("connection refused")),
        }),
      /^Error: HTTP GET http:\/\/10\.0\.0\.1\/d failed: connection refused$/,
    );
    const stop = new AbortController();
    stop.abort(new Error("timed out after 3000 ms"));
    await assertRejects(
      () =>
        httpText("http://10.0.0.1/d", {}, {
          fetch: () => Promise.reject(new DOMException("aborted")),
          signal: stop.signal,
        }),
      /failed: timed out after 3000 ms$/,
    );
  });
});
