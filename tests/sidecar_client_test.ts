/** SidecarClient against our sidecar and against a server answering exactly as the original does. */
import { createHash } from "node:crypto";
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import {
  CertificatePinError,
  createCertificate,
  forgetPinnedCertificates,
  RequestVerifier,
  SidecarClient,
  SidecarHttpError,
} from "../src/sidecar/mod.ts";
import { startSidecar } from "./sidecar_helpers.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

Deno.test("SidecarClient uploads, finds, downloads, lists and deletes through our sidecar", async (t) => {
  await using sidecar = await startSidecar();
  const target = {
    nodeId: sidecar.node.nodeId,
    host: "127.0.0.1",
    port: sidecar.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  const dir = await Deno.makeTempDir({ prefix: "knarr-client-" });
  const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
  const hash = sha256(bytes);
  try {
    await t.step("a file upload streams it and answers its hash", async () => {
      await Deno.writeFile(`${dir}/in.bin`, bytes);
      const progress: number[] = [];
      const outcome = await client.upload(target, `${dir}/in.bin`, {
        onProgress: (done) => progress.push(done),
      });
      assertEquals(outcome, { hash, size: bytes.length, uploaded: true });
      assertEquals(progress.at(-1), bytes.length);
      assertEquals(await Deno.readFile(`${sidecar.dir}/${hash}`), bytes);
    });

    await t.step("a second upload is skipped after the HEAD", async () => {
      assertEquals(await client.head(target, hash), bytes.length);
      assertEquals(await client.upload(target, bytes), {
        hash,
        size: bytes.length,
        uploaded: false,
      });
    });

    await t.step(
      "a download lands checked, through a temporary file",
      async () => {
        assertEquals(
          await client.download(target, hash, `${dir}/out.bin`),
          bytes.length,
        );
        assertEquals(await Deno.readFile(`${dir}/out.bin`), bytes);
        const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
        assertEquals(names, ["in.bin", "out.bin"]);
      },
    );

    await t.step("a missing asset is a 404 error and no file", async () => {
      const missing = "0".repeat(64);
      assertEquals(await client.head(target, missing), null);
      await assertRejects(
        () => client.download(target, missing, `${dir}/missing.bin`),
        (e: Error) => e instanceof SidecarHttpError && e.status === 404,
      );
      assertEquals([...Deno.readDirSync(dir)].length, 2);
    });

    await t.step(
      "list and delete (only the node's own key may delete)",
      async () => {
        const list = await client.list(target);
        assertEquals(list.total_size, bytes.length);
        assertEquals(list.assets.map((a) => a.hash), [hash]);
        await assertRejects(
          () => client.delete(target, hash),
          (e: Error) => e instanceof SidecarHttpError && e.status === 403,
        );
        const owner = new SidecarClient({ identity: sidecar.node });
        assertEquals(await owner.delete(target, hash), true);
        assertEquals(await owner.delete(target, hash), false);
      },
    );

    await t.step(
      "a certificate of another node is refused before anything is sent",
      async () => {
        forgetPinnedCertificates();
        const impostor = {
          ...target,
          nodeId: (await Identity.generate()).nodeId,
        };
        await assertRejects(
          () => client.upload(impostor, new Uint8Array([1, 2, 3])),
          CertificatePinError,
        );
        assertEquals(sidecar.store.list().assets.length, 0);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A server that answers as the original Python sidecar does, recording request heads. */
async function originalLikeSidecar(
  node: Identity,
  answer: (head: string, body: Uint8Array) => Uint8Array,
  options: { certificateNow?: number } = {},
) {
  const certificate = await createCertificate(node, {
    ...(options.certificateNow ? { now: options.certificateNow } : {}),
  });
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  const heads: string[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      try {
        const received = await readRequest(conn);
        heads.push(received.head);
        const bytes = answer(received.head, received.body);
        let offset = 0;
        while (offset < bytes.length) {
          offset += await conn.write(bytes.subarray(offset));
        }
      } finally {
        conn.close();
      }
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    heads,
    async close() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

async function readRequest(
  conn: Deno.Conn,
): Promise<{ head: string; body: Uint8Array }> {
  let data: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(65536);
  for (;;) {
    const text = new TextDecoder().decode(data);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = text.slice(0, end + 4);
      const length = Number(/Content-Length: (\d+)/i.exec(head)?.[1] ?? 0);
      const headBytes = new TextEncoder().encode(head).length;
      while (data.length < headBytes + length) {
        const n = await conn.read(buffer);
        if (n === null) break;
        data = concat(data, buffer.subarray(0, n));
      }
      return { head, body: data.subarray(headBytes, headBytes + length) };
    }
    const n = await conn.read(buffer);
    if (n === null) return { head: text, body: new Uint8Array(0) };
    data = concat(data, buffer.subarray(0, n));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function response(
  status: string,
  type: string,
  body: Uint8Array | string,
): Uint8Array {
  const bytes = typeof body === "string"
    ? new TextEncoder().encode(body)
    : body;
  return concat(
    new TextEncoder().encode(
      `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`,
    ),
    bytes,
  );
}

Deno.test("SidecarClient speaks to a sidecar answering exactly as the original does", async () => {
  const node = await Identity.generate();
  const content = new TextEncoder().encode("hello knarr asset\n");
  const hash = sha256(content);
  const stored = new Map<string, Uint8Array>();
  // The original answers with Python json.dumps spacing and closes after each answer.
  const original = await originalLikeSidecar(node, (head, body) => {
    const [method, path] = head.split(" ");
    if (method === "HEAD") {
      return stored.has(path!.slice(8))
        ? response("200 OK", "application/octet-stream", "").subarray(0)
        : response("404 Not Found", "application/json", "");
    }
    if (method === "PUT") {
      stored.set(sha256(body), body);
      return response(
        "200 OK",
        "application/json",
        `{"hash": "${sha256(body)}", "size": ${body.length}}`,
      );
    }
    const found = stored.get(path!.slice(8));
    return found
      ? response("200 OK", "application/octet-stream", found)
      : response(
        "404 Not Found",
        "application/json",
        '{"error": "Asset not found"}',
      );
  });
  const dir = await Deno.makeTempDir();
  try {
    forgetPinnedCertificates();
    const signer = await Identity.generate();
    const client = new SidecarClient({ identity: signer });
    const target = {
      nodeId: node.nodeId,
      host: "127.0.0.1",
      port: original.port,
    };
    assertEquals(await client.upload(target, content), {
      hash,
      size: 18,
      uploaded: true,
    });
    assertEquals(await client.download(target, hash, `${dir}/copy`), 18);
    assertEquals(await Deno.readFile(`${dir}/copy`), content);

    // What the original server sees: its own CLI's head layout, no Host header, valid signatures.
    const [headReq, putReq, getReq] = original.heads;
    assertMatch(headReq!, new RegExp(`^HEAD /assets/${hash} HTTP/1\\.1\\r\\n`));
    assertMatch(
      putReq!,
      /^PUT \/assets HTTP\/1\.1\r\nContent-Length: 18\r\nx-knarr-publickey: [0-9a-f]{64}\r\nx-knarr-signature: [0-9a-f]{128}\r\nx-knarr-timestamp: \d+\r\nx-knarr-content-hash: [0-9a-f]{64}\r\n\r\n$/,
    );
    assert(!/host:/i.test(putReq!));
    for (const head of [headReq!, putReq!, getReq!]) {
      const [line, ...rest] = head.trimEnd().split("\r\n");
      const [method, path] = line!.split(" ");
      const headers = new Map(
        rest.map((
          l,
        ) => [
          l.slice(0, l.indexOf(":")).toLowerCase(),
          l.slice(l.indexOf(":") + 2),
        ]),
      );
      const verdict = await new RequestVerifier().verify(
        method!,
        path!,
        headers,
      );
      assert(verdict.ok, `${method} verifies: ${JSON.stringify(verdict)}`);
    }
  } finally {
    await original.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SidecarClient pins an expired certificate by its key, independent of dates", async () => {
  const node = await Identity.generate();
  const twoYearsAgo = Date.now() - 2 * 365 * 86_400_000;
  const original = await originalLikeSidecar(
    node,
    () =>
      response("200 OK", "application/json", '{"assets": [], "total_size": 0}'),
    { certificateNow: twoYearsAgo },
  );
  try {
    forgetPinnedCertificates();
    const client = new SidecarClient({ identity: await Identity.generate() });
    const target = {
      nodeId: node.nodeId,
      host: "127.0.0.1",
      port: original.port,
    };
    for (let i = 0; i < 2; i++) {
      assertEquals(await client.list(target), { assets: [], total_size: 0 });
    }
  } finally {
    await original.close();
  }
});

Deno.test("SidecarClient refuses a download whose bytes do not match the hash, leaving no file", async () => {
  const node = await Identity.generate();
  const original = await originalLikeSidecar(
    node,
    () => response("200 OK", "application/octet-stream", "tampered"),
  );
  const dir = await Deno.makeTempDir();
  try {
    forgetPinnedCertificates();
    const client = new SidecarClient({ identity: await Identity.generate() });
    await assertRejects(
      () =>
        client.download(
          { nodeId: node.nodeId, host: "127.0.0.1", port: original.port },
          "a".repeat(64),
          `${dir}/x`,
        ),
      /content hashes to/,
    );
    assertEquals([...Deno.readDirSync(dir)], []);
  } finally {
    await original.close();
    await Deno.remove(dir, { recursive: true });
  }
});
