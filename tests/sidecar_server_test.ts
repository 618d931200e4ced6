/** The asset sidecar over real TLS on 127.0.0.1: the original client's bytes, every route, every refusal. */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertMatch, readVector } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import {
  rawExchange,
  signedHead,
  startSidecar,
  strayFiles,
  vectorSigner,
  withBody,
} from "./sidecar_helpers.ts";

interface AuthVector {
  timestamp: number;
  put: {
    body_hex: string;
    content_hash: string;
    request_head_as_sent_by_knarr_cli: string;
    expected_response_body: { hash: string; size: number };
  };
  get: { path: string; request_head_as_sent_by_knarr_cli: string };
  head: { signature: string };
  list: { signature: string };
  signer: { public_key: string };
}

const V = readVector<AuthVector>("sidecar_auth.json");
const BODY = Uint8Array.from(
  V.put.body_hex.match(/../g)!.map((h) => parseInt(h, 16)),
);
const AT_VECTOR_TIME = { clock: { now: () => V.timestamp } };

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test("SidecarServer answers the original CLI's exact request bytes", async (t) => {
  await using sidecar = await startSidecar({ deps: AT_VECTOR_TIME });

  await t.step(
    "PUT stores the body and answers its hash and size",
    async () => {
      const answer = await rawExchange(
        sidecar,
        withBody(V.put.request_head_as_sent_by_knarr_cli, BODY),
      );
      assertEquals(answer.status, 200);
      // The original client looks for these exact bytes, then reads to EOF.
      assertMatch(answer.head, /\r\nContent-Length: \d+\r\n/);
      assert(answer.closed, "the server closes after its answer");
      assertEquals(JSON.parse(answer.text), V.put.expected_response_body);
      assertEquals(
        await Deno.readFile(`${sidecar.dir}/${V.put.content_hash}`),
        BODY,
      );
    },
  );

  await t.step("GET streams the stored bytes back", async () => {
    const answer = await rawExchange(
      sidecar,
      V.get.request_head_as_sent_by_knarr_cli,
    );
    assertEquals(answer.status, 200);
    assertMatch(answer.head, /\r\nContent-Length: 18\r\n/);
    assertEquals(answer.body, BODY);
    assert(answer.closed);
  });

  await t.step("HEAD answers the size without a body", async () => {
    const head = `HEAD ${V.get.path} HTTP/1.1\r\n` +
      `x-knarr-publickey: ${V.signer.public_key}\r\n` +
      `x-knarr-signature: ${V.head.signature}\r\n` +
      `x-knarr-timestamp: ${V.timestamp}\r\n\r\n`;
    const answer = await rawExchange(sidecar, head);
    assertEquals(answer.status, 200);
    assertMatch(answer.head, /\r\nContent-Length: 18\r\n/);
    assertEquals(answer.body.length, 0);
  });

  await t.step("GET /assets lists it with its access count", async () => {
    const head = "GET /assets HTTP/1.1\r\n" +
      `x-knarr-publickey: ${V.signer.public_key}\r\n` +
      `x-knarr-signature: ${V.list.signature}\r\n` +
      `x-knarr-timestamp: ${V.timestamp}\r\n\r\n`;
    const answer = await rawExchange(sidecar, head);
    assertEquals(answer.status, 200);
    const list = JSON.parse(answer.text);
    assertEquals(list.total_size, 18);
    assertEquals(list.assets.length, 1);
    assertEquals(list.assets[0].hash, V.put.content_hash);
    assertEquals(list.assets[0].size, 18);
    assertEquals(list.assets[0].access_count, 1);
    assertEquals(typeof list.assets[0].uploaded_at, "number");
  });

  await t.step("a replayed request is refused", async () => {
    const again = await rawExchange(
      sidecar,
      V.get.request_head_as_sent_by_knarr_cli,
    );
    assertEquals([again.status, JSON.parse(again.text)], [401, {
      error: "Unauthorized",
    }]);
  });
});

Deno.test("SidecarServer refuses bad input with a status and leaves no partial file", async (t) => {
  await using sidecar = await startSidecar({
    store: { maxBytes: 4096, maxTotalBytes: 8192 },
    server: { headerLineTimeoutMs: 300, bodyTimeoutMs: 400, maxConnections: 3 },
  });
  const user = await Identity.generate();
  const put = async (
    body: Uint8Array,
    options: { length?: number; hash?: string; send?: Uint8Array } = {},
  ) => {
    const head = await signedHead(user, "PUT", "/assets", {
      contentLength: options.length ?? body.length,
      contentHash: options.hash ?? sha256(body),
    });
    return await rawExchange(sidecar, withBody(head, options.send ?? body));
  };
  const afterwards = async () => {
    assertEquals(await strayFiles(sidecar.dir), []);
    for await (const e of Deno.readDir(sidecar.dir)) {
      if (e.isFile) {
        assertEquals(
          sha256(await Deno.readFile(`${sidecar.dir}/${e.name}`)),
          e.name,
        );
      }
    }
  };

  await t.step("truncated body → 400", async () => {
    const body = new Uint8Array(1000).fill(7);
    const answer = await put(body, { send: body.subarray(0, 10) });
    assertEquals(answer.status, 400);
    assertMatch(JSON.parse(answer.text).error, /[Tt]runcated/);
    await afterwards();
  });

  await t.step(
    "a stalled upload body → 408 after the body timeout",
    async () => {
      const body = new Uint8Array(1000).fill(8);
      const head = await signedHead(user, "PUT", "/assets", {
        contentLength: 1000,
        contentHash: sha256(body),
      });
      const answer = await rawExchange(
        sidecar,
        withBody(head, body.subarray(0, 10)),
        {
          closeWrite: false,
        },
      );
      assertEquals(answer.status, 408);
      await afterwards();
    },
  );

  await t.step("wrong content hash → 400 Content hash mismatch", async () => {
    const answer = await put(new Uint8Array(100).fill(1), {
      hash: "ab".repeat(32),
    });
    assertEquals([answer.status, JSON.parse(answer.text)], [400, {
      error: "Content hash mismatch",
    }]);
    await afterwards();
  });

  await t.step("body larger than max_asset_size → 413", async () => {
    const answer = await put(new Uint8Array(5000).fill(2));
    assertEquals(answer.status, 413);
    await afterwards();
  });

  await t.step("over the total quota → 507", async () => {
    for (const fill of [3, 4]) {
      assertEquals((await put(new Uint8Array(4000).fill(fill))).status, 200);
    }
    const answer = await put(new Uint8Array(4000).fill(5));
    assertEquals([answer.status, JSON.parse(answer.text)], [507, {
      error: "Storage quota exceeded",
    }]);
    await afterwards();
  });

  await t.step(
    "empty body, chunked body and bad Content-Length → 400",
    async () => {
      assertEquals((await put(new Uint8Array(0))).status, 400);
      const head = await signedHead(user, "PUT", "/assets");
      const chunked = head.replace(
        "\r\n\r\n",
        "\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      assertEquals(
        (await rawExchange(sidecar, chunked + "5\r\nhello\r\n0\r\n\r\n"))
          .status,
        400,
      );
      // A fresh signature: the same one twice would be refused as a replay.
      const bad = (await signedHead(user, "PUT", "/assets", {
        timestamp: Math.floor(Date.now() / 1000) - 5,
      }))
        .replace("\r\n\r\n", "\r\nContent-Length: -5\r\n\r\n");
      assertEquals((await rawExchange(sidecar, bad)).status, 400);
      await afterwards();
    },
  );

  await t.step(
    "bad signature, stale timestamp and missing headers → 401",
    async () => {
      const body = new Uint8Array(10).fill(9);
      const good = await signedHead(user, "PUT", "/assets", {
        contentLength: 10,
        contentHash: sha256(body),
      });
      const forged = good.replace(
        /x-knarr-signature: ([0-9a-f])/,
        (_m, c: string) => `x-knarr-signature: ${c === "0" ? "1" : "0"}`,
      );
      assertEquals(
        (await rawExchange(sidecar, withBody(forged, body))).status,
        401,
      );
      const stale = await signedHead(user, "PUT", "/assets", {
        contentLength: 10,
        contentHash: sha256(body),
        timestamp: Math.floor(Date.now() / 1000) - 61,
      });
      assertEquals(
        (await rawExchange(sidecar, withBody(stale, body))).status,
        401,
      );
      const unsigned = "GET /assets HTTP/1.1\r\n\r\n";
      assertEquals((await rawExchange(sidecar, unsigned)).status, 401);
      await afterwards();
    },
  );

  await t.step("path traversal in the hash → 400", async () => {
    for (
      const path of [
        "/assets/../../etc/passwd",
        "/assets/..%2f..%2fetc",
        `/assets/${"A".repeat(64)}`,
      ]
    ) {
      const answer = await rawExchange(
        sidecar,
        await signedHead(user, "GET", path),
      );
      assertEquals(answer.status, 400, path);
    }
    await afterwards();
  });

  await t.step("missing asset → 404; unknown route → 404", async () => {
    const missing = await rawExchange(
      sidecar,
      await signedHead(user, "GET", `/assets/${"0".repeat(64)}`),
    );
    assertEquals([missing.status, JSON.parse(missing.text)], [404, {
      error: "Asset not found",
    }]);
    const route = await rawExchange(
      sidecar,
      await signedHead(user, "POST", "/upload"),
    );
    assertEquals(route.status, 404);
  });

  await t.step(
    "DELETE by another key → 403; by the node itself → 200",
    async () => {
      const body = new Uint8Array(50).fill(6);
      assertEquals((await put(body)).status, 200);
      const path = `/assets/${sha256(body)}`;
      assertEquals(
        (await rawExchange(sidecar, await signedHead(user, "DELETE", path)))
          .status,
        403,
      );
      const own = await rawExchange(
        sidecar,
        await signedHead(sidecar.node, "DELETE", path),
      );
      assertEquals([own.status, JSON.parse(own.text)], [200, { status: "ok" }]);
      assertEquals(sidecar.store.info(sha256(body)), null);
    },
  );

  await t.step("slow-loris headers → 408 within the line timeout", async () => {
    const started = performance.now();
    const answer = await rawExchange(
      sidecar,
      "PUT /assets HTTP/1.1\r\nx-knarr-",
      {
        closeWrite: false,
      },
    );
    assertEquals(answer.status, 408);
    assert(performance.now() - started < 5_000);
  });

  await t.step(
    "plaintext HTTP on the TLS port → 400 saying HTTPS",
    async () => {
      const answer = await rawExchange(
        sidecar,
        "GET /assets HTTP/1.1\r\n\r\n",
        {
          plaintext: true,
        },
      );
      assertEquals(answer.status, 400);
      assertMatch(JSON.parse(answer.text).error, /HTTPS only/);
    },
  );

  await t.step(
    "uploads past half of max_connections → 503, downloads still served",
    async () => {
      const held: Deno.TlsConn[] = [];
      try {
        const c = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: sidecar.port,
          caCerts: [sidecar.certificate.certPem],
          unsafelyDisableHostnameVerification: true,
        });
        await c.handshake();
        // An upload whose body is still to come keeps its request (and an upload slot) open.
        await c.write(
          new TextEncoder().encode(
            await signedHead(user, "PUT", "/assets", {
              contentLength: 10,
              contentHash: "a".repeat(64),
            }),
          ),
        );
        held.push(c);
        await new Promise((r) => setTimeout(r, 50));
        const upload = await rawExchange(
          sidecar,
          await signedHead(user, "PUT", "/assets", {
            contentLength: 10,
            contentHash: "b".repeat(64),
          }),
        );
        assertEquals(upload.status, 503);
        assertMatch(upload.text, /Too many uploads: at most 1 at once/);
        const list = await rawExchange(
          sidecar,
          await signedHead(user, "GET", "/assets"),
        );
        assertEquals(list.status, 200);
      } finally {
        for (const c of held) c.close();
      }
    },
  );

  await t.step(
    "garbage, oversized and non-UTF-8 heads → 400 / 431",
    async () => {
      const garbage = await rawExchange(
        sidecar,
        "\x00\x01 not http at all\r\n\r\n",
      );
      assertEquals(garbage.status, 400);
      const huge = await rawExchange(
        sidecar,
        `GET /assets HTTP/1.1\r\nx-pad: ${"a".repeat(20_000)}\r\n\r\n`,
      );
      assertEquals(huge.status, 431);
      const latin = new Uint8Array([
        ...new TextEncoder().encode("GET /assets/"),
        0xff,
        0xfe,
        ...new TextEncoder().encode(" HTTP/1.1\r\n\r\n"),
      ]);
      assertEquals((await rawExchange(sidecar, latin)).status, 400);
      const noVersion = await rawExchange(sidecar, "GET /assets\r\n\r\n");
      assertEquals(noVersion.status, 400);
    },
  );

  await t.step(
    "a client that connects and says nothing is dropped, others are served",
    async () => {
      const silent = await Deno.connect({
        hostname: "127.0.0.1",
        port: sidecar.port,
      });
      const answer = await rawExchange(
        sidecar,
        await signedHead(user, "GET", "/assets"),
      );
      assertEquals(answer.status, 200);
      silent.close();
    },
  );

  await t.step("the node keeps serving after all of this", async () => {
    const answer = await rawExchange(
      sidecar,
      await signedHead(user, "GET", "/assets", {
        timestamp: Math.floor(Date.now() / 1000) - 2,
      }),
    );
    assertEquals(answer.status, 200);
    await afterwards();
  });
});

Deno.test("SidecarServer refuses uploads from nodes allow_uploads does not name", async () => {
  const allowed = await Identity.generate();
  await using sidecar = await startSidecar({
    deps: { allowUpload: (who) => who.nodeId === allowed.nodeId },
  });
  const body = new Uint8Array(20).fill(1);
  for (
    const [signer, status] of [[await Identity.generate(), 403], [
      allowed,
      200,
    ]] as const
  ) {
    const head = await signedHead(signer, "PUT", "/assets", {
      contentLength: 20,
      contentHash: sha256(body),
    });
    assertEquals(
      (await rawExchange(sidecar, withBody(head, body))).status,
      status,
    );
  }
  assertEquals(await strayFiles(sidecar.dir), []);
});

Deno.test("SidecarServer vector signer is the one in sidecar_auth.json", async () => {
  assertEquals((await vectorSigner()).publicKey, V.signer.public_key);
});
