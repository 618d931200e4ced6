import {
  assert,
  assertEquals,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { EndpointCache } from "./endpoint_cache.ts";

async function withCache(
  fn: (cache: EndpointCache, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  let now = Date.parse("2031-05-06T07:08:09.010Z");
  const path = `${dir}/nested/endpoints.json`;
  try {
    await fn(new EndpointCache({ path, now: () => new Date(now++) }), path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("EndpointCache.record() writes the Python SDK's format and creates the directory", async () => {
  await withCache(async (cache, path) => {
    await cache.record(
      "relay.example",
      9009,
      { version: "0.5.0", agents_online: 3, uptime_sec: 5 } as never,
    );
    const text = await Deno.readTextFile(path);
    assertStrictEquals(
      text,
      JSON.stringify(
        {
          endpoints: [{
            host: "relay.example",
            port: 9009,
            version: "0.5.0",
            agents_online: 3,
            last_seen: "2031-05-06T07:08:09.010000+00:00",
          }],
        },
        null,
        2,
      ),
    );
  });
});

Deno.test("EndpointCache.record() updates an entry in place by host and port", async () => {
  await withCache(async (cache) => {
    await cache.record("a", 1, { version: "1", agents_online: 1 });
    await cache.record("b", 2, { version: "2", agents_online: 2 });
    await cache.record("a", 1, { version: "3", agents_online: 9 });
    await cache.record("a", 2, {});
    const entries = await cache.read();
    assertEquals(
      entries.map((e) => [e.host, e.port, e.version, e.agents_online]),
      [
        ["a", 1, "3", 9],
        ["b", 2, "2", 2],
        ["a", 2, "", 0],
      ],
    );
    assertStrictEquals(
      entries[0]!.last_seen,
      "2031-05-06T07:08:09.012000+00:00",
    );
  });
});

Deno.test("EndpointCache.read() treats a missing or corrupt file as empty", async (t) => {
  await withCache(async (cache, path) => {
    assertEquals(await cache.read(), []);
    await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
    for (
      const text of [
        "{not json",
        "[]",
        '{"endpoints": 5}',
        "null",
        '{"endpoints":[1,{"host":"x"}]}',
      ]
    ) {
      await t.step(text, async () => {
        await Deno.writeTextFile(path, text);
        assertEquals(await cache.read(), []);
      });
    }
    await cache.record("fresh", 9009, {});
    assertEquals((await cache.read()).map((e) => e.host), ["fresh"]);
  });
});

Deno.test("EndpointCache.record() writes back only well-formed entries, so junk cannot grow the file", async () => {
  await withCache(async (cache, path) => {
    await Deno.mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true });
    // Found by the fuzzer (relay.endpoint-cache): a junk entry nested 3,000 deep was written
    // back pretty-printed, 9 MB and 2 s for a 105 KB file.
    const deep = "[".repeat(3_000) + "]".repeat(3_000);
    await Deno.writeTextFile(
      path,
      `{"endpoints": [${deep}, {"host": "kept", "port": 1}, {"host": 5}]}`,
    );
    await cache.record("fresh", 9009, {});
    assertEquals((await cache.read()).map((e) => e.host), ["kept", "fresh"]);
    assert((await Deno.stat(path)).size < 1_000);
  });
});
