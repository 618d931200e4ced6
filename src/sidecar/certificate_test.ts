import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { Identity, verifyBytes } from "../crypto/mod.ts";
import { CertificateRepo, Database } from "../store/mod.ts";
import { bytesToHex } from "../util/mod.ts";
import { DerReader, TAG } from "./_der.ts";
import {
  certificateFromDer,
  certificateMatchesNode,
  createCertificate,
  derToPem,
  loadOrCreateCertificate,
  parseCertificate,
} from "./certificate.ts";

const SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
const NODE_ID =
  "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c";
const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const DAY_MS = 86_400_000;

// Made by Python `cryptography` 48 with the seed above: C, O and a PrintableString CN,
// a 20-byte serial, UTCTime 2024-01-02T03:04:05Z to GeneralizedTime 2051-06-07T08:09:10Z,
// and basicConstraints, subjectAltName and subjectKeyIdentifier extensions.
const PYTHON_CERT = base64(
  "MIIBeTCCASugAwIBAgIUfxEiM0RVZneImaq7zN3u/wARIjMwBQYDK2VwMDgxCzAJBgNVBAYTAk5PMRMwEQYDVQQKDApLbmFyciBUZXN0MRQwEgYDVQQDEwtweXRob24tcGVlcjAgFw0yNDAxMDIwMzA0MDVaGA8yMDUxMDYwNzA4MDkxMFowODELMAkGA1UEBhMCTk8xEzARBgNVBAoMCktuYXJyIFRlc3QxFDASBgNVBAMTC3B5dGhvbi1wZWVyMCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbijRTBDMAwGA1UdEwEB/wQCMAAwFAYDVR0RBA0wC4IJbG9jYWxob3N0MB0GA1UdDgQWBBT9gabbZNb69/cCwHlxqCwlwdw8kDAFBgMrZXADQQAQDKYeCqjsEna+3WYz+MIu/rVZ8XqABJovBE9/m3rOiFON22wpAhHgzbk4kqUQQiMAoScJWL+5+8U7DicW0yoD",
);
// The same library's Ed448 certificate (CN=ed448).
const ED448_CERT = base64(
  "MIIBFzCBmKADAgECAgEBMAUGAytlcTAQMQ4wDAYDVQQDDAVlZDQ0ODAeFw0yNDAxMDEwMDAwMDBaFw0yNTAxMDEwMDAwMDBaMBAxDjAMBgNVBAMMBWVkNDQ4MEMwBQYDK2VxAzoAGNCnDkKnQt+1YSeYkzhQYde02tj2/u1HkeqrZrL0pPAvwJRiqL+xhC0LrGDoobPlW6JAfzMibzgAMAUGAytlcQNzAL80YaRETFdxulwL3Dv9uT6nE51lyA8XqUSi/t5i3safprSLC+NoA5SmuWcSS7MC9lho8XOsQRoQgJP7iY47GDrCoy80rTh3Y1RjF7LL03rFtdzFSZlM7Qy59pOP6WWKxFuE8gA0iyLemP3rM9AuapYyAA==",
);

function base64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function fromPem(pem: string): Uint8Array {
  return base64(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""));
}

/** The tbsCertificate's elements as [tag, content] pairs. */
function tbsElements(der: Uint8Array): [number, Uint8Array][] {
  const r = new DerReader(der);
  const cert = r.read(0, der.length);
  const tbs = r.read(cert.start, cert.end);
  const out: [number, Uint8Array][] = [];
  for (let at = tbs.start; at < tbs.end;) {
    const t = r.read(at, tbs.end);
    out.push([t.tag, r.content(t)]);
    at = t.end;
  }
  return out;
}

Deno.test("createCertificate() makes a self-signed v3 Ed25519 certificate of the identity key", async () => {
  const identity = await Identity.fromSeed(SEED);
  const cert = await createCertificate(identity, { now: NOW });
  const info = parseCertificate(cert.der);
  assertEquals(bytesToHex(info.publicKey), identity.publicKey);
  assertEquals(info.commonName, NODE_ID.slice(0, 16));
  // Whole seconds: X.509 times have no milliseconds.
  assertEquals(info.notBefore, Date.UTC(2024, 0, 2, 3, 4, 5));
  assertEquals(info.notAfter, info.notBefore + 365 * DAY_MS);
  assert(await certificateMatchesNode(cert.der, NODE_ID));

  const elements = tbsElements(cert.der);
  const tags = elements.map(([tag]) => tag);
  // version, serial, signature, issuer, validity, subject, SPKI; no extensions.
  assertEquals(tags, [0xa0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30]);
  assertEquals(bytesToHex(elements[0]![1]), "020102");
  const serial = elements[1]![1];
  assertEquals(serial.length, 16);
  assert(serial[0]! > 0 && serial[0]! < 0x80, "positive, minimal serial");
  assertEquals(bytesToHex(elements[2]![1]), "06032b6570");
  assertEquals(elements[3]![1], elements[5]![1], "issuer = subject");

  const r = new DerReader(cert.der);
  const outer = r.read(0, cert.der.length);
  const tbs = r.read(outer.start, outer.end);
  const alg = r.read(tbs.end, outer.end);
  assertEquals(bytesToHex(r.content(alg)), "06032b6570");
  const sig = r.content(r.read(alg.end, outer.end));
  assertEquals(sig[0], 0);
  assert(
    await verifyBytes(
      info.publicKey,
      sig.subarray(1),
      cert.der.subarray(outer.start, tbs.end),
    ),
    "signed by the identity key",
  );
});

Deno.test("createCertificate() writes UTCTime before 2050 and GeneralizedTime from 2050", async () => {
  const identity = await Identity.fromSeed(SEED);
  const now = Date.UTC(2049, 11, 31, 12);
  const cert = await createCertificate(identity, { now, days: 2 });
  const validity = tbsElements(cert.der)[4]![1];
  assertEquals(validity[0], TAG.UTC_TIME);
  assertEquals(
    new TextDecoder().decode(validity.subarray(2, 2 + validity[1]!)),
    "491231120000Z",
  );
  const after = validity.subarray(2 + validity[1]!);
  assertEquals(after[0], TAG.GENERALIZED_TIME);
  assertEquals(new TextDecoder().decode(after.subarray(2)), "20500102120000Z");
  const info = parseCertificate(cert.der);
  assertEquals([info.notBefore, info.notAfter], [now, now + 2 * DAY_MS]);
});

Deno.test("createCertificate() gives PEMs: the certificate and the PKCS#8 of the seed", async () => {
  const identity = await Identity.fromSeed(SEED);
  const cert = await createCertificate(identity, { now: NOW });
  assertMatch(cert.certPem, /^-----BEGIN CERTIFICATE-----\n/);
  assertMatch(cert.certPem, /\n-----END CERTIFICATE-----\n$/);
  const lines = cert.certPem.trim().split("\n").slice(1, -1);
  assert(lines.slice(0, -1).every((l) => l.length === 64), "64-char lines");
  assert(lines.at(-1)!.length <= 64);
  assertEquals(fromPem(cert.certPem), cert.der);
  assertMatch(
    cert.keyPem,
    /^-----BEGIN PRIVATE KEY-----\n.+\n-----END PRIVATE KEY-----\n$/,
  );
  assertEquals(
    bytesToHex(fromPem(cert.keyPem)),
    "302e020100300506032b657004220420" + bytesToHex(SEED),
  );
  // Random serials: two certificates of one key differ.
  const again = await createCertificate(identity, { now: NOW });
  assertNotEquals(again.der, cert.der);
});

Deno.test("derToPem() wraps base64 at 64 characters", () => {
  const pem = derToPem(new Uint8Array(100).fill(0xff), "THING");
  const lines = pem.split("\n");
  assertEquals(lines[0], "-----BEGIN THING-----");
  // 100 bytes are 136 base64 characters.
  assertEquals(lines.slice(1, 4).map((l) => l.length), [64, 64, 8]);
  assertEquals(lines.slice(4), ["-----END THING-----", ""]);
});

Deno.test("certificateFromDer() rebuilds the PEMs and refuses another identity's certificate", async () => {
  const identity = await Identity.fromSeed(SEED);
  const cert = await createCertificate(identity, { now: NOW });
  assertEquals(certificateFromDer(cert.der, identity), cert);
  const other = await Identity.generate();
  assertThrows(
    () => certificateFromDer(cert.der, other),
    (e: unknown) =>
      e instanceof TypeError && /^Cannot use certificate: /.test(e.message),
  );
});

Deno.test("parseCertificate() reads a certificate made by Python cryptography", () => {
  const info = parseCertificate(PYTHON_CERT);
  assertEquals(info, {
    publicKey: Uint8Array.from(
      atob("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="),
      (c) => c.charCodeAt(0),
    ),
    commonName: "python-peer",
    notBefore: Date.UTC(2024, 0, 2, 3, 4, 5),
    notAfter: Date.UTC(2051, 5, 7, 8, 9, 10),
  });
});

Deno.test("certificateMatchesNode() compares the key hash with the node id and never throws", async () => {
  assert(await certificateMatchesNode(PYTHON_CERT, NODE_ID));
  assert(!(await certificateMatchesNode(PYTHON_CERT, "00".repeat(32))));
  assert(!(await certificateMatchesNode(ED448_CERT, NODE_ID)));
  assert(!(await certificateMatchesNode(new Uint8Array(0), NODE_ID)));
  assert(
    !(await certificateMatchesNode(PYTHON_CERT.subarray(0, 100), NODE_ID)),
  );
});

Deno.test("parseCertificate() refuses a key that is not Ed25519 with a TypeError", () => {
  assertThrows(() => parseCertificate(ED448_CERT), {
    name: "TypeError",
    message: "Cannot read certificate: public key is not Ed25519",
  });
});

Deno.test("parseCertificate() throws SyntaxError on malformed DER", async (t) => {
  const identity = await Identity.fromSeed(SEED);
  const { der } = await createCertificate(identity, { now: NOW });
  const syntax = (bytes: Uint8Array) =>
    assertThrows(
      () => parseCertificate(bytes),
      (e: unknown) =>
        e instanceof SyntaxError &&
        /^Cannot read certificate: /.test(e.message),
    );

  await t.step("every prefix of a valid certificate", () => {
    for (const source of [der, PYTHON_CERT]) {
      for (let n = 0; n < source.length; n++) syntax(source.subarray(0, n));
    }
  });
  await t.step("trailing garbage", () => {
    syntax(Uint8Array.from([...der, 0]));
    syntax(Uint8Array.from([...der, ...der]));
  });
  await t.step("wrong outer tag", () => {
    syntax(Uint8Array.from([0x31, ...der.subarray(1)]));
  });
  await t.step("indefinite length", () => {
    syntax(Uint8Array.of(0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00));
  });
  await t.step("a length of more than 4 bytes", () => {
    syntax(Uint8Array.of(0x30, 0x85, 0, 0, 0, 0, 3, 0x02, 0x01, 0x01));
  });
  await t.step("a length far beyond the buffer", () => {
    syntax(Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00));
  });
  await t.step("an impossible date", () => {
    const text = new TextEncoder().encode("240231000000Z");
    const bad = Uint8Array.from(der);
    const at = indexOf(bad, new TextEncoder().encode("240102030405Z"));
    bad.set(text, at);
    syntax(bad);
  });
});

Deno.test("parseCertificate() survives random corruption: it throws or returns, never hangs", async () => {
  const identity = await Identity.fromSeed(SEED);
  const { der } = await createCertificate(identity, { now: NOW });
  // A fixed linear congruential generator keeps failures reproducible.
  let state = 0x2545f491;
  const random = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  for (const source of [der, PYTHON_CERT]) {
    for (let round = 0; round < 2000; round++) {
      const bytes = Uint8Array.from(source);
      for (let flips = 1 + random(4); flips > 0; flips--) {
        bytes[random(bytes.length)] = random(256);
      }
      try {
        const info = parseCertificate(bytes);
        assertEquals(info.publicKey.length, 32);
      } catch (error) {
        assert(
          error instanceof SyntaxError || error instanceof TypeError,
          String(error),
        );
      }
      assertEquals(
        typeof (await certificateMatchesNode(bytes, NODE_ID)),
        "boolean",
      );
    }
  }
});

Deno.test("createCertificate() is accepted by Deno.listenTls and pins a Deno.connectTls client", async (t) => {
  const identity = await Identity.generate();
  const cert = await createCertificate(identity);
  using listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: cert.certPem,
    key: cert.keyPem,
  });
  const { port } = listener.addr;

  await t.step("a client pinned to this certificate talks to it", async () => {
    const served = (async () => {
      using conn = await listener.accept();
      await conn.handshake();
      const buf = new Uint8Array(4);
      assertEquals(await conn.read(buf), 4);
      assertEquals(new TextDecoder().decode(buf), "ping");
      await conn.write(new TextEncoder().encode("pong"));
    })();
    using client = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [cert.certPem],
      unsafelyDisableHostnameVerification: true,
    } as Deno.ConnectTlsOptions);
    await client.handshake();
    await client.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    assertEquals(await client.read(buf), 4);
    assertEquals(new TextDecoder().decode(buf), "pong");
    await served;
  });

  await t.step(
    "a client pinned to another node's certificate refuses it",
    async () => {
      const other = await createCertificate(await Identity.generate());
      const served = (async () => {
        using conn = await listener.accept();
        await conn.handshake().catch(() => {});
      })();
      using client = await Deno.connectTls({
        hostname: "127.0.0.1",
        port,
        caCerts: [other.certPem],
        unsafelyDisableHostnameVerification: true,
      } as Deno.ConnectTlsOptions);
      await assertRejects(() => client.handshake());
      await served;
    },
  );
});

Deno.test("loadOrCreateCertificate() keeps one certificate across reopening the database", async () => {
  const path = join(Deno.makeTempDirSync({ prefix: "knarr-cert-" }), "node.db");
  const identity = await Identity.fromSeed(SEED);
  let first;
  {
    await using db = Database.open(path);
    first = await loadOrCreateCertificate(new CertificateRepo(db), identity, {
      now: NOW,
    });
  }
  {
    await using db = Database.open(path);
    const repo = new CertificateRepo(db);
    // Long past its dates: still the same certificate, because clients pin the key.
    const again = await loadOrCreateCertificate(repo, identity, {
      now: NOW + 10 * 365 * DAY_MS,
    });
    assertEquals(again, first);
    assertEquals(repo.get()?.createdAt, NOW / 1000);
  }
});

Deno.test("loadOrCreateCertificate() replaces a stored certificate of another identity or unreadable bytes", async () => {
  await using db = Database.open(":memory:");
  const repo = new CertificateRepo(db);
  const first = await loadOrCreateCertificate(
    repo,
    await Identity.fromSeed(SEED),
  );
  const other = await Identity.generate();
  const second = await loadOrCreateCertificate(repo, other);
  assertNotEquals(second.der, first.der);
  assert(await certificateMatchesNode(second.der, other.nodeId));
  assertEquals(repo.get()?.der, second.der);

  repo.put(Uint8Array.of(1, 2, 3), 0);
  const third = await loadOrCreateCertificate(repo, other);
  assert(await certificateMatchesNode(third.der, other.nodeId));
  assertEquals(repo.get()?.der, third.der);
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((b, j) => haystack[i + j] === b)) return i;
  }
  throw new Error("needle not found");
}
