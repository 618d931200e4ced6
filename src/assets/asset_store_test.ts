import { createHash } from "node:crypto";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { Logger, sha256Hex } from "../util/mod.ts";
import { AssetStore, type AssetStoreOptions } from "./asset_store.ts";
import type { ByteSource } from "./types.ts";
import {
  AssetHashMismatchError,
  AssetQuotaError,
  AssetTooLargeError,
  AssetTruncatedError,
} from "./errors.ts";

const MIB = 1024 * 1024;

async function withStore(
  fn: (store: AssetStore, dir: string) => Promise<void>,
  options: AssetStoreOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "knarr_assets_" });
  const store = new AssetStore(`${dir}/assets`, options);
  try {
    await fn(store, `${dir}/assets`);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A source over `bytes` handing out at most `chunk` bytes per read; counts what it gave. */
function bytesSource(
  bytes: Uint8Array,
  chunk = Infinity,
): ByteSource & { consumed: number; reads: number } {
  const source = {
    consumed: 0,
    reads: 0,
    read(p: Uint8Array): Promise<number | null> {
      source.reads++;
      if (source.consumed >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, chunk, bytes.length - source.consumed);
      p.set(bytes.subarray(source.consumed, source.consumed + n));
      source.consumed += n;
      return Promise.resolve(n);
    },
  };
  return source;
}

/** A source that must never be read. */
const UNREADABLE: ByteSource = {
  read: () => Promise.reject(new Error("source must not be read")),
};

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
  }
  return out;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** File and directory names in `dir`, sorted. */
async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

function fakeClock(start: number): { t: number; now(): number } {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

Deno.test("AssetStore.put() stores bytes under their SHA-256 and get() finds them", async () => {
  await withStore(async (store, dir) => {
    const bytes = new TextEncoder().encode("hello asset");
    const hash = await store.put(bytes);
    assertStrictEquals(hash, await sha256Hex(bytes));
    assertStrictEquals(await store.get(hash), `${dir}/${hash}`);
    assertEquals(await Deno.readFile(`${dir}/${hash}`), bytes);
    assert(await store.has(hash));
  });
});

Deno.test("AssetStore.put() is idempotent and leaves no temporary files", async () => {
  await withStore(async (store, dir) => {
    const bytes = new Uint8Array([1, 2, 3]);
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    assertStrictEquals(a, b);
    assertStrictEquals(await store.put(bytes), a);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, [a]);
  });
});

Deno.test("AssetStore.get() returns null for an asset that is not stored", async () => {
  await withStore(async (store) => {
    assertStrictEquals(await store.get("0".repeat(64)), null);
    assertStrictEquals(await store.has("0".repeat(64)), false);
  });
});

Deno.test("AssetStore rejects hashes that are not 64 lowercase hex", async (t) => {
  await withStore(async (store) => {
    for (
      const bad of [
        "",
        "abc",
        "A".repeat(64),
        "g".repeat(64),
        "../etc/passwd",
        `${"0".repeat(63)}/`,
      ]
    ) {
      await t.step(JSON.stringify(bad), async () => {
        assertThrows(() => store.pathOf(bad), TypeError);
        assertThrows(() => store.info(bad), TypeError);
        assertThrows(() => store.retain(bad), TypeError);
        await assertRejects(() => store.get(bad), TypeError);
        await assertRejects(() => store.has(bad), TypeError);
        await assertRejects(() => store.openRead(bad), TypeError);
        await assertRejects(() => store.delete(bad), TypeError);
      });
    }
  });
});

Deno.test("AssetStore.put() refuses assets over maxBytes", async () => {
  await withStore(async (store) => {
    await assertRejects(() => store.put(new Uint8Array(11)), (e: Error) => {
      assert(e instanceof RangeError);
      assertMatch(e.message, /11 bytes exceeds maximum 10/);
      return true;
    });
  }, { maxBytes: 10 });
});

Deno.test("AssetStore.write() streams a source into the store and indexes it", async () => {
  const clock = fakeClock(1_700_000_000);
  await withStore(async (store, dir) => {
    const size = 2 * MIB + 12_345;
    const content = randomBytes(size + 1000);
    const source = bytesSource(content, 16_384);
    const progress: number[] = [];
    const outcome = await store.write(source, {
      size,
      expectedHash: sha256(content.subarray(0, size)),
      onProgress: (n) => progress.push(n),
    });
    const hash = sha256(content.subarray(0, size));
    assertEquals(outcome, { hash, size, created: true });
    assertEquals(
      await Deno.readFile(`${dir}/${hash}`),
      content.subarray(0, size),
    );
    assertEquals(store.info(hash), {
      hash,
      size,
      uploadedAt: 1_700_000_000,
      accessCount: 0,
    });
    assertStrictEquals(store.totalBytes, size);
    assertEquals(await namesIn(dir), [hash]);
    // never reads past `size`: the extra 1000 bytes stay in the source
    assertStrictEquals(source.consumed, size);
    assert(progress.length > 0);
    assertStrictEquals(progress.at(-1), size);
    for (let i = 1; i < progress.length; i++) {
      assert(progress[i]! > progress[i - 1]!, `progress ${progress}`);
    }
  }, { clock });
});

Deno.test("AssetStore.write() does not read past size when the source offers more", async (t) => {
  for (const size of [1, 3, MIB, MIB + 1]) {
    await t.step(`size ${size}`, async () => {
      await withStore(async (store) => {
        const content = randomBytes(size + 64);
        const source = bytesSource(content);
        const outcome = await store.write(source, { size });
        assertStrictEquals(outcome.hash, sha256(content.subarray(0, size)));
        assertStrictEquals(source.consumed, size);
      });
    });
  }
});

Deno.test("AssetStore.write() deduplicates content that is already stored", async () => {
  await withStore(async (store, dir) => {
    const bytes = new TextEncoder().encode("same content");
    const size = bytes.length;
    const first = await store.write(bytesSource(bytes), { size });
    const second = await store.write(bytesSource(bytes), { size });
    assertEquals(second, { hash: first.hash, size, created: false });
    assertStrictEquals(first.created, true);
    assertStrictEquals(store.totalBytes, size);
    assertStrictEquals(store.list().assets.length, 1);
    assertEquals(await namesIn(dir), [first.hash]);

    // a file that appeared behind the index's back is adopted, not duplicated
    const other = new TextEncoder().encode("dropped in by hand");
    const otherHash = sha256(other);
    await Deno.writeFile(`${dir}/${otherHash}`, other);
    const adopted = await store.write(bytesSource(other), {
      size: other.length,
    });
    assertEquals(adopted, {
      hash: otherHash,
      size: other.length,
      created: false,
    });
    assertStrictEquals(store.totalBytes, size + other.length);
    assertEquals(await namesIn(dir), [first.hash, otherHash].sort());
  });
});

Deno.test("AssetStore.write() leaves no file and no index entry after a failure", async (t) => {
  const existing = new TextEncoder().encode("present before");
  const content = randomBytes(3 * MIB);
  const cases: {
    name: string;
    source: () => ByteSource & { consumed?: number };
    size: number;
    expectedHash?: string;
    signal?: () => AbortSignal;
    error: (e: unknown) => boolean;
    /** Bytes the source may have handed out; undefined = not checked. */
    consumed?: number;
  }[] = [
    {
      name: "AssetTooLargeError before any read",
      source: () => UNREADABLE,
      size: 101,
      error: (e) =>
        e instanceof AssetTooLargeError && e.size === 101 &&
        e.maxBytes === 100 && /101 bytes exceeds maximum 100/.test(e.message),
    },
    {
      name: "AssetQuotaError before any read",
      source: () => UNREADABLE,
      size: 100 - existing.length + 1,
      error: (e) =>
        e instanceof AssetQuotaError && e.usedBytes === existing.length &&
        e.maxTotalBytes === 100,
    },
    {
      name: "AssetTruncatedError when the source ends early",
      source: () => bytesSource(content.subarray(0, 40), 7),
      size: 50,
      error: (e) =>
        e instanceof AssetTruncatedError && e.received === 40 &&
        e.size === 50 && /got 40 of 50 bytes/.test(e.message),
    },
    {
      name: "AssetHashMismatchError when expectedHash differs",
      source: () => bytesSource(content.subarray(0, 60)),
      size: 60,
      expectedHash: "0".repeat(64),
      error: (e) =>
        e instanceof AssetHashMismatchError &&
        e.expected === "0".repeat(64) &&
        e.actual === sha256(content.subarray(0, 60)),
    },
    {
      name: "an already aborted signal",
      source: () => UNREADABLE,
      size: 10,
      signal: () => AbortSignal.abort(new Error("gave up")),
      error: (e) => e instanceof Error && e.message === "gave up",
    },
    {
      name: "a source that throws",
      source: () => ({
        read: () => Promise.reject(new Error("connection reset")),
      }),
      size: 10,
      error: (e) => e instanceof Error && e.message === "connection reset",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await withStore(async (store, dir) => {
        const kept = await store.put(existing);
        const source = c.source();
        await assertRejects(
          () =>
            store.write(source, {
              size: c.size,
              ...(c.expectedHash ? { expectedHash: c.expectedHash } : {}),
              ...(c.signal ? { signal: c.signal() } : {}),
            }),
          (e: unknown) => {
            assert(c.error(e), `unexpected error: ${e}`);
            return true;
          },
        );
        assertEquals(await namesIn(dir), [kept]);
        assertEquals(store.list().assets.map((a) => a.hash), [kept]);
        assertStrictEquals(store.totalBytes, existing.length);
      }, { maxBytes: 100, maxTotalBytes: 100 });
    });
  }

  await t.step("a signal aborted mid-stream", async () => {
    await withStore(async (store, dir) => {
      const kept = await store.put(existing);
      const controller = new AbortController();
      const inner = bytesSource(content, 65_536);
      const source: ByteSource = {
        read: (p) => {
          if (inner.consumed >= 1.5 * MIB) controller.abort();
          return inner.read(p);
        },
      };
      await assertRejects(
        () =>
          store.write(source, {
            size: content.length,
            signal: controller.signal,
          }),
        (e: unknown) => e instanceof DOMException && e.name === "AbortError",
      );
      assert(inner.consumed < content.length);
      assertEquals(await namesIn(dir), [kept]);
      assertEquals(store.list().assets.map((a) => a.hash), [kept]);
      assertStrictEquals(store.totalBytes, existing.length);
    });
  });

  await t.step("a signal aborted while a read is pending", async () => {
    await withStore(async (store, dir) => {
      const kept = await store.put(existing);
      const controller = new AbortController();
      let reads = 0;
      // a stalled peer: the first read answers, the next one never does
      const source: ByteSource = {
        read: (p) => {
          if (reads++ > 0) return new Promise(() => {});
          p.fill(1, 0, 1000);
          return Promise.resolve(1000);
        },
      };
      const writing = store.write(source, {
        size: 5000,
        signal: controller.signal,
      });
      while (reads < 2) await new Promise((resolve) => setTimeout(resolve, 1));
      controller.abort(new Error("peer too slow"));
      await assertRejects(() => writing, /peer too slow/);
      assertEquals(await namesIn(dir), [kept]);
      assertStrictEquals(store.totalBytes, existing.length);
    });
  });

  await t.step(
    "a source that throws while a chunk is being written",
    async () => {
      await withStore(async (store, dir) => {
        const kept = await store.put(existing);
        const inner = bytesSource(content, 65_536);
        const source: ByteSource = {
          read: (p) =>
            inner.consumed >= 1.5 * MIB
              ? Promise.reject(new Error("connection reset"))
              : inner.read(p),
        };
        await assertRejects(
          () => store.write(source, { size: content.length }),
          /connection reset/,
        );
        assertEquals(await namesIn(dir), [kept]);
        assertStrictEquals(store.totalBytes, existing.length);
      });
    },
  );
});

Deno.test("AssetStore.write() throws TypeError for a bad size or expectedHash", async (t) => {
  await withStore(async (store, dir) => {
    await store.open();
    for (const size of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
      await t.step(`size ${size}`, async () => {
        await assertRejects(() => store.write(UNREADABLE, { size }), TypeError);
      });
    }
    for (
      const expectedHash of ["", "abc", "A".repeat(64), "g".repeat(64)]
    ) {
      await t.step(`expectedHash ${JSON.stringify(expectedHash)}`, async () => {
        await assertRejects(
          () => store.write(UNREADABLE, { size: 3, expectedHash }),
          TypeError,
        );
      });
    }
    assertEquals(await namesIn(dir), []);
    assertStrictEquals(store.totalBytes, 0);
  });
});

Deno.test("AssetStore.write() lets only one of two concurrent writes pass the quota", async () => {
  await withStore(async (store, dir) => {
    const a = randomBytes(60);
    const b = randomBytes(60);
    const sourceA = bytesSource(a, 10);
    const sourceB = bytesSource(b, 10);
    const results = await Promise.allSettled([
      store.write(sourceA, { size: 60 }),
      store.write(sourceB, { size: 60 }),
    ]);
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    const rejected = results.filter((r) => r.status === "rejected");
    assertStrictEquals(fulfilled.length, 1);
    assertStrictEquals(rejected.length, 1);
    assert(rejected[0]!.reason instanceof AssetQuotaError);
    // the refused write never touched its source
    assertEquals([sourceA.consumed, sourceB.consumed].sort(), [0, 60]);
    const winner = fulfilled[0]!.value.hash;
    assertEquals(await namesIn(dir), [winner]);
    assertStrictEquals(store.totalBytes, 60);
  }, { maxTotalBytes: 100 });
});

Deno.test("AssetStore.write() reports created once for concurrent writes of new content", async () => {
  await withStore(async (store, dir) => {
    const bytes = randomBytes(3 * MIB);
    const outcomes = await Promise.all(
      [0, 1, 2].map(() =>
        store.write(bytesSource(bytes, 65_536), { size: bytes.length })
      ),
    );
    assertEquals(outcomes.map((o) => o.created).sort(), [false, false, true]);
    assertEquals(
      new Set(outcomes.map((o) => o.hash)),
      new Set([sha256(bytes)]),
    );
    assertStrictEquals(store.totalBytes, bytes.length);
    assertEquals(await namesIn(dir), [sha256(bytes)]);
    assertEquals(await Deno.readFile(`${dir}/${sha256(bytes)}`), bytes);
  });
});

Deno.test("AssetStore.write() streams 100 MiB in bounded memory", async () => {
  const size = 100 * MIB;
  // an odd length, so the pattern does not line up with the store's buffers
  const pattern = randomBytes(65_537);
  let offset = 0;
  const source: ByteSource = {
    read: (p) => {
      if (offset >= size) return Promise.resolve(null);
      // ~16 KiB per read, like a TLS socket
      const n = Math.min(p.length, 16_384, size - offset);
      let done = 0;
      while (done < n) {
        const at = (offset + done) % pattern.length;
        const take = Math.min(n - done, pattern.length - at);
        p.set(pattern.subarray(at, at + take), done);
        done += take;
      }
      offset += n;
      return Promise.resolve(n);
    },
  };
  const expected = createHash("sha256");
  for (let at = 0; at < size; at += pattern.length) {
    expected.update(pattern.subarray(0, Math.min(pattern.length, size - at)));
  }
  await withStore(async (store, dir) => {
    await store.open();
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const outcome = await store.write(source, {
      size,
      onProgress: () => {
        peak = Math.max(peak, Deno.memoryUsage().rss);
      },
    });
    peak = Math.max(peak, Deno.memoryUsage().rss);
    assertStrictEquals(outcome.hash, expected.digest("hex"));
    assertStrictEquals(outcome.size, size);
    assertStrictEquals(offset, size);
    assertStrictEquals((await Deno.stat(`${dir}/${outcome.hash}`)).size, size);
    assert(
      peak - before < 64 * MIB,
      `rss grew by ${((peak - before) / MIB).toFixed(1)} MiB`,
    );
  });
});

Deno.test("AssetStore.open() indexes hash-named files, removes temp files and leaves the rest", async () => {
  await withStore(async (store, dir) => {
    await Deno.mkdir(`${dir}/.inbox`, { recursive: true });
    const bytes = new TextEncoder().encode("left by an earlier run");
    const hash = sha256(bytes);
    await Deno.writeFile(`${dir}/${hash}`, bytes);
    await Deno.utime(`${dir}/${hash}`, 1_600_000_000, 1_600_000_000);
    const temp = `.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(`${dir}/${temp}`, new Uint8Array(5));
    await Deno.writeFile(`${dir}/notes.txt`, new Uint8Array(7));
    await Deno.writeFile(`${dir}/${"A".repeat(64)}`, new Uint8Array(9));
    await Deno.writeFile(`${dir}/.inbox/x`, new Uint8Array(11));
    await Deno.mkdir(`${dir}/${"b".repeat(64)}`);

    await store.open();
    await store.open();

    assertEquals(store.list(), {
      assets: [{
        hash,
        size: bytes.length,
        uploadedAt: 1_600_000_000,
        accessCount: 0,
      }],
      totalSize: bytes.length,
    });
    assertStrictEquals(store.totalBytes, bytes.length);
    assertEquals(
      await namesIn(dir),
      [".inbox", "A".repeat(64), hash, "b".repeat(64), "notes.txt"].sort(),
    );
    assertEquals(await namesIn(`${dir}/.inbox`), ["x"]);
  });
});

Deno.test("AssetStore.open() fails with the directory named and can be retried", async () => {
  await withStore(async (store, dir) => {
    await Deno.writeTextFile(dir, "a file where the directory should be");
    await assertRejects(() => store.open(), (e: Error) => {
      assertMatch(e.message, /^Cannot open asset directory ".*assets"$/);
      assert(e.cause instanceof Error);
      return true;
    });
    await Deno.remove(dir);
    await store.open();
    assertEquals(await namesIn(dir), []);
  });
});

Deno.test("AssetStore.list() returns the newest assets first, up to limit", async () => {
  const clock = fakeClock(1_000);
  await withStore(async (store) => {
    const hashes: string[] = [];
    for (const [i, text] of ["one", "two", "three"].entries()) {
      clock.t = 1_000 + i;
      hashes.push(await store.put(new TextEncoder().encode(text)));
    }
    const all = store.list();
    assertEquals(all.assets.map((a) => a.hash), [...hashes].reverse());
    assertEquals(all.assets.map((a) => a.uploadedAt), [1_002, 1_001, 1_000]);
    assertStrictEquals(all.totalSize, 3 + 3 + 5);
    const two = store.list(2);
    assertEquals(two.assets.map((a) => a.hash), [hashes[2], hashes[1]]);
    assertStrictEquals(two.totalSize, 11);
    assertEquals(store.list(0).assets, []);
  }, { clock });
});

Deno.test("AssetStore.openRead() opens an asset, counts the access and returns its size", async () => {
  await withStore(async (store) => {
    const bytes = new TextEncoder().encode("download me");
    const hash = await store.put(bytes);
    for (const expected of [1, 2]) {
      const opened = await store.openRead(hash);
      assert(opened !== null);
      using file = opened.file;
      assertStrictEquals(opened.size, bytes.length);
      const buffer = new Uint8Array(64);
      const n = await file.read(buffer);
      assertEquals(buffer.subarray(0, n ?? 0), bytes);
      assertStrictEquals(store.info(hash)?.accessCount, expected);
    }
    assertStrictEquals(await store.openRead("0".repeat(64)), null);
    await assertRejects(() => store.openRead("nope"), TypeError);
  });
});

Deno.test("AssetStore.delete() removes the file and the index entry", async () => {
  await withStore(async (store, dir) => {
    const keep = await store.put(new TextEncoder().encode("keep"));
    const drop = await store.put(new TextEncoder().encode("drop!"));
    assertStrictEquals(store.totalBytes, 9);
    assertStrictEquals(await store.delete(drop), true);
    assertStrictEquals(store.info(drop), null);
    assertStrictEquals(await store.has(drop), false);
    assertStrictEquals(store.totalBytes, 4);
    assertEquals(await namesIn(dir), [keep]);
    assertStrictEquals(await store.delete(drop), false);
    assertStrictEquals(store.totalBytes, 4);
  });
});

Deno.test("AssetStore.putFile() streams a local file into the store", async () => {
  await withStore(async (store, dir) => {
    const outside = await Deno.makeTempFile({ prefix: "knarr_asset_src_" });
    try {
      const bytes = randomBytes(MIB + 3);
      await Deno.writeFile(outside, bytes);
      const progress: number[] = [];
      const outcome = await store.putFile(outside, {
        onProgress: (n) => progress.push(n),
      });
      assertEquals(outcome, {
        hash: sha256(bytes),
        size: bytes.length,
        created: true,
      });
      assertStrictEquals(progress.at(-1), bytes.length);
      assertEquals(await Deno.readFile(`${dir}/${outcome.hash}`), bytes);
      assertEquals(await Deno.readFile(outside), bytes);
      assertStrictEquals(
        (await store.putFile(outside)).created,
        false,
      );
      await assertRejects(
        () => store.putFile(outside, { expectedHash: "1".repeat(64) }),
        AssetHashMismatchError,
      );
      assertEquals(await namesIn(dir), [outcome.hash]);
      assertStrictEquals(store.totalBytes, bytes.length);
    } finally {
      await Deno.remove(outside);
    }
  });
});

Deno.test("AssetStore.sweep() deletes assets older than ttlSeconds", async (t) => {
  await t.step("past the TTL", async () => {
    const clock = fakeClock(1_000);
    await withStore(async (store, dir) => {
      const old = await store.put(new TextEncoder().encode("old"));
      clock.t = 1_050;
      const young = await store.put(new TextEncoder().encode("young"));
      clock.t = 1_100; // exactly the TTL: still kept
      assertEquals(await store.sweep(), []);
      clock.t = 1_101;
      assertEquals(await store.sweep(), [old]);
      assertEquals(await namesIn(dir), [young]);
      assertStrictEquals(store.info(old), null);
      assertStrictEquals(store.totalBytes, 5);
      clock.t = 1_151;
      assertEquals(await store.sweep(), [young]);
      assertEquals(await namesIn(dir), []);
      assertStrictEquals(store.totalBytes, 0);
    }, { clock, ttlSeconds: 100 });
  });

  await t.step("ttlSeconds 0 keeps everything", async () => {
    const clock = fakeClock(1_000);
    await withStore(async (store, dir) => {
      const hash = await store.put(new TextEncoder().encode("forever"));
      clock.t = 1_000_000_000;
      assertEquals(await store.sweep(), []);
      assertEquals(await namesIn(dir), [hash]);
    }, { clock, ttlSeconds: 0 });
  });

  await t.step("uses the mtime of files found on open", async () => {
    const clock = fakeClock(1_600_000_050);
    await withStore(async (store, dir) => {
      await Deno.mkdir(dir);
      const bytes = new TextEncoder().encode("from before the restart");
      const hash = sha256(bytes);
      await Deno.writeFile(`${dir}/${hash}`, bytes);
      await Deno.utime(`${dir}/${hash}`, 1_600_000_000, 1_600_000_000);
      assertEquals(await store.sweep(), []);
      clock.t = 1_600_000_101;
      assertEquals(await store.sweep(), [hash]);
      assertEquals(await namesIn(dir), []);
    }, { clock, ttlSeconds: 100 });
  });
});

Deno.test("AssetStore.retain() keeps an expired asset until another TTL passes or it is downloaded", async (t) => {
  await t.step("until now > retain time + TTL", async () => {
    const clock = fakeClock(1_000);
    await withStore(async (store, dir) => {
      const hash = await store.put(new TextEncoder().encode("result"));
      clock.t = 1_090;
      store.retain(hash);
      clock.t = 1_150; // past its TTL, but retained
      assertEquals(await store.sweep(), []);
      clock.t = 1_190; // exactly retainedUntil
      assertEquals(await store.sweep(), []);
      assertEquals(await namesIn(dir), [hash]);
      clock.t = 1_191;
      assertEquals(await store.sweep(), [hash]);
      assertEquals(await namesIn(dir), []);
    }, { clock, ttlSeconds: 100 });
  });

  await t.step("until openRead() after the retain", async () => {
    const clock = fakeClock(1_000);
    await withStore(async (store, dir) => {
      const hash = await store.put(new TextEncoder().encode("result"));
      clock.t = 1_050;
      (await store.openRead(hash))?.file.close(); // before the retain: does not count
      clock.t = 1_090;
      store.retain(hash);
      clock.t = 1_150;
      assertEquals(await store.sweep(), []);
      const opened = await store.openRead(hash);
      assert(opened !== null);
      opened.file.close();
      assertEquals(await store.sweep(), [hash]);
      assertEquals(await namesIn(dir), []);
    }, { clock, ttlSeconds: 100 });
  });

  await t.step(
    "a download before expiry does not shorten the upload TTL",
    async () => {
      const clock = fakeClock(1_000);
      await withStore(async (store) => {
        const hash = await store.put(new TextEncoder().encode("result"));
        store.retain(hash);
        (await store.openRead(hash))?.file.close();
        clock.t = 1_100;
        assertEquals(await store.sweep(), []);
        clock.t = 1_101;
        assertEquals(await store.sweep(), [hash]);
      }, { clock, ttlSeconds: 100 });
    },
  );

  await t.step("an unknown hash is ignored", async () => {
    await withStore(async (store) => {
      await store.open();
      store.retain("0".repeat(64));
      assertStrictEquals(store.info("0".repeat(64)), null);
    });
  });
});

Deno.test("AssetStore warns once each time the total passes 80 % of the quota", async () => {
  const lines: string[] = [];
  const logger = new Logger({
    level: "warn",
    sink: (line) => lines.push(line),
  });
  const clock = fakeClock(1_000);
  await withStore(async (store) => {
    const write = (n: number) =>
      store.write(bytesSource(randomBytes(n)), { size: n });
    await write(50);
    await write(30); // exactly 80 %: not above
    assertEquals(lines, []);
    const big = await write(5); // 85 %
    assertStrictEquals(lines.length, 1);
    assertMatch(lines[0]!, /WARN .*85 % of its quota \(85 of 100 bytes\)/);
    await write(5); // 90 %: same crossing
    assertStrictEquals(lines.length, 1);

    await store.delete(big.hash); // 85 %: still above
    await write(5); // 90 %
    assertStrictEquals(lines.length, 1);

    // back below 80 % by delete(), then above again: a second crossing
    const listed = store.list().assets;
    for (const a of listed.filter((a) => a.size === 5)) {
      await store.delete(a.hash);
    }
    assertStrictEquals(store.totalBytes, 80);
    await write(10); // 90 %
    assertStrictEquals(lines.length, 2);

    // back below by the sweep, then above again: a third
    clock.t = 1_000_000;
    assertEquals((await store.sweep()).length, 3);
    assertStrictEquals(store.totalBytes, 0);
    await write(90);
    assertStrictEquals(lines.length, 3);
  }, { clock, logger, maxTotalBytes: 100, ttlSeconds: 100 });
});

Deno.test("AssetStore.startSweeper() deletes expired assets until close()", async () => {
  const clock = fakeClock(1_000);
  await withStore(async (store, dir) => {
    const hash = await store.put(new TextEncoder().encode("expires"));
    store.startSweeper({ intervalMs: 20 });
    store.startSweeper({ intervalMs: 20 }); // a second call is a no-op
    clock.t = 1_011;
    const deadline = Date.now() + 5_000;
    while (store.info(hash) !== null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assertStrictEquals(store.info(hash), null);
    assertEquals(await namesIn(dir), []);
    await store.close();
    await store.close();

    // stopped: a newly expired asset stays
    const later = await store.put(new TextEncoder().encode("stays"));
    clock.t = 2_000;
    await new Promise((resolve) => setTimeout(resolve, 80));
    assertEquals(await namesIn(dir), [later]);
  }, { clock, ttlSeconds: 10 });
});

Deno.test("AssetStore.write() takes content it already has even when the quota is nearly full", async () => {
  await withStore(async (store) => {
    const bytes = new Uint8Array(60).fill(4);
    const first = await store.write(bytesSource(bytes), { size: 60 });
    const again = await store.write(bytesSource(bytes), {
      size: 60,
      expectedHash: first.hash,
    });
    assertEquals([again.created, store.totalBytes], [false, 60]);
    await assertRejects(
      () => store.write(bytesSource(new Uint8Array(60).fill(5)), { size: 60 }),
      AssetQuotaError,
    );
  }, { maxTotalBytes: 100 });
});
