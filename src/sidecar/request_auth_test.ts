import {
  assert,
  assertEquals,
  assertRejects,
  readVector,
} from "../../tests/assert.ts";
import { Identity } from "../crypto/mod.ts";
import { bytesToHex, hexToBytes } from "../util/mod.ts";
import {
  AUTH_WINDOW_SECONDS,
  RequestVerifier,
  signedString,
  signRequest,
} from "./request_auth.ts";

interface SignedVector {
  method?: string;
  path?: string;
  content_hash?: string;
  signed_string: string;
  signature: string;
}
interface AuthVectors {
  signer: { seed_hex: string; public_key: string };
  timestamp: number;
  put: SignedVector & {
    method: string;
    path: string;
    content_hash: string;
    request_head_as_sent_by_knarr_cli: string;
  };
  get: SignedVector & { method: string; path: string };
  head: SignedVector;
  list: SignedVector & { method: string; path: string };
  real_verify_auth_results: Record<string, boolean>;
}

const V = readVector<AuthVectors>("sidecar_auth.json");
const TS = V.timestamp;
const HASH_PATH = V.get.path;

function signer(): Promise<Identity> {
  return Identity.fromSeed(hexToBytes(V.signer.seed_hex));
}

/** A clock the test moves by hand, in unix seconds. */
function manualClock(now: number) {
  return {
    now: () => now,
    set(value: number) {
      now = value;
    },
  };
}

function headerMap(headers: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(headers));
}

Deno.test("signedString() reproduces the signed strings of the vectors", () => {
  assertEquals(
    signedString(V.put.method, V.put.path, TS, V.put.content_hash),
    V.put.signed_string,
  );
  assertEquals(signedString(V.get.method, V.get.path, TS), V.get.signed_string);
  assertEquals(signedString("head", HASH_PATH, TS), V.head.signed_string);
  assertEquals(signedString("get", "/assets", TS), V.list.signed_string);
});

Deno.test("signRequest() sends exactly the headers and signatures of the original CLI", async () => {
  const identity = await signer();
  assertEquals(identity.publicKey, V.signer.public_key);
  const put = await signRequest(identity, "PUT", "/assets", {
    timestamp: TS,
    contentHash: V.put.content_hash,
  });
  assertEquals(Object.entries(put), [
    ["x-knarr-publickey", V.signer.public_key],
    ["x-knarr-signature", V.put.signature],
    ["x-knarr-timestamp", "1700000000"],
    ["x-knarr-content-hash", V.put.content_hash],
  ]);
  // The header lines of the recorded request head, in its order.
  const head = Object.entries(put).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  assert(V.put.request_head_as_sent_by_knarr_cli.includes(head));

  const get = await signRequest(identity, "GET", HASH_PATH, { timestamp: TS });
  assertEquals(Object.keys(get), [
    "x-knarr-publickey",
    "x-knarr-signature",
    "x-knarr-timestamp",
  ]);
  assertEquals(get["x-knarr-signature"], V.get.signature);
  const request = await signRequest(identity, "HEAD", HASH_PATH, {
    timestamp: TS,
  });
  assertEquals(request["x-knarr-signature"], V.head.signature);
  const list = await signRequest(identity, "get", "/assets", { timestamp: TS });
  assertEquals(list["x-knarr-signature"], V.list.signature);
});

Deno.test("signRequest() stamps the current second and refuses bad options", async () => {
  const identity = await signer();
  const before = Math.floor(Date.now() / 1000);
  const headers = await signRequest(identity, "GET", "/assets");
  const ts = Number(headers["x-knarr-timestamp"]);
  assert(ts >= before && ts <= Math.floor(Date.now() / 1000));
  await assertRejects(
    () => signRequest(identity, "GET", "/assets", { timestamp: 1.5 }),
    RangeError,
  );
  await assertRejects(
    () => signRequest(identity, "PUT", "/assets", { contentHash: "a\r\nx: y" }),
    TypeError,
  );
});

Deno.test("RequestVerifier.verify() gives the original's results for the vectors", async () => {
  const expected = V.real_verify_auth_results;
  const clock = manualClock(TS);
  const verifier = new RequestVerifier({ clock });
  const putHeaders = new Map([
    ["x-knarr-publickey", V.signer.public_key],
    ["x-knarr-signature", V.put.signature],
    ["x-knarr-timestamp", String(TS)],
    ["x-knarr-content-hash", V.put.content_hash],
  ]);
  const getHeaders = new Map([
    ["x-knarr-publickey", V.signer.public_key],
    ["x-knarr-signature", V.get.signature],
    ["x-knarr-timestamp", String(TS)],
  ]);
  const nodeId =
    "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c";
  const put = await verifier.verify("PUT", "/assets", putHeaders);
  assertEquals(put.ok, expected.put);
  assertEquals(put, {
    ok: true,
    publicKey: V.signer.public_key,
    nodeId,
    contentHash: V.put.content_hash,
  });
  const get = await verifier.verify("GET", HASH_PATH, getHeaders);
  assertEquals(get.ok, expected.get);
  assertEquals(get, {
    ok: true,
    publicKey: V.signer.public_key,
    nodeId,
    contentHash: "empty",
  });
  // A fresh verifier: this one remembers the signature and would call it a replay.
  const wrongPath = await new RequestVerifier({ clock }).verify(
    "GET",
    "/assets/other",
    getHeaders,
  );
  assertEquals(wrongPath.ok, expected.get_wrong_path);
  assertEquals(wrongPath, { ok: false, reason: "bad signature" });

  assertEquals(await verifier.verify("GET", "/assets/other", getHeaders), {
    ok: false,
    reason: "replayed signature",
  });

  const stale = new RequestVerifier({ clock: manualClock(TS + 61) });
  const late = await stale.verify("PUT", "/assets", putHeaders);
  assertEquals(late.ok, expected.put_stale_61s);
  assertEquals(late, { ok: false, reason: "timestamp 61 s from server time" });
});

Deno.test("RequestVerifier.verify() names each reason for refusing", async (t) => {
  const identity = await signer();
  const good = await signRequest(identity, "GET", "/assets", { timestamp: TS });
  const check = async (
    headers: Record<string, string>,
    reason: string,
    now = TS,
  ) => {
    const verifier = new RequestVerifier({ clock: manualClock(now) });
    assertEquals(await verifier.verify("GET", "/assets", headerMap(headers)), {
      ok: false,
      reason,
    });
  };
  const without = (name: string) => {
    const copy = { ...good };
    delete copy[name];
    return copy;
  };

  await t.step("missing headers", async () => {
    for (const name of Object.keys(good)) {
      await check(without(name), `missing ${name}`);
    }
  });
  await t.step("a public key that is not 64 hex characters", async () => {
    for (const key of ["", "ab", "zz".repeat(32), "0".repeat(65)]) {
      await check(
        { ...good, "x-knarr-publickey": key },
        "x-knarr-publickey is not 64 hex characters",
      );
    }
  });
  await t.step("a signature that is not 128 hex characters", async () => {
    for (
      const sig of ["", good["x-knarr-signature"]!.slice(2), "g".repeat(128)]
    ) {
      await check(
        { ...good, "x-knarr-signature": sig },
        "x-knarr-signature is not 128 hex characters",
      );
    }
  });
  await t.step("a timestamp that is not a plain integer", async () => {
    for (
      const ts of [
        "",
        "+1700000000",
        "-1700000000",
        "1700000000.0",
        "1.7e9",
        " 1700000000",
        "1700000000 ",
        "0x6553f100",
        "1700000000000",
        "１７００００００００",
      ]
    ) {
      await check(
        { ...good, "x-knarr-timestamp": ts },
        "x-knarr-timestamp is not an integer of at most 12 digits",
      );
    }
  });
  await t.step("a timestamp outside the window, either way", async () => {
    await check(good, "timestamp 61 s from server time", TS + 61);
    await check(good, "timestamp 61 s from server time", TS - 61);
    await check(good, "timestamp 61 s from server time", TS + 60.5);
  });
  await t.step(
    "a signature by another key, or for another request",
    async () => {
      const other = await Identity.generate();
      await check(
        { ...good, "x-knarr-publickey": other.publicKey },
        "bad signature",
      );
      await check({ ...good, "x-knarr-content-hash": "x" }, "bad signature");
      await check(
        { ...good, "x-knarr-timestamp": String(TS + 1) },
        "bad signature",
      );
    },
  );
  await t.step("a malleated signature (S + L)", async () => {
    // Same R, S + the group order: accepted by lax Ed25519 verifiers, a replay in disguise.
    const sig = hexToBytes(good["x-knarr-signature"]!);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += 2n ** 252n + 27742317777372353535851937790883648493n;
    for (let i = 32; i < 64; i++, s >>= 8n) sig[i] = Number(s & 0xffn);
    await check(
      { ...good, "x-knarr-signature": bytesToHex(sig) },
      "bad signature",
    );
  });
});

Deno.test("RequestVerifier.verify() accepts upper-case hex and window edges", async () => {
  const identity = await signer();
  const good = await signRequest(identity, "GET", "/assets", { timestamp: TS });
  for (const now of [TS - AUTH_WINDOW_SECONDS, TS + AUTH_WINDOW_SECONDS]) {
    const verifier = new RequestVerifier({ clock: manualClock(now) });
    const result = await verifier.verify(
      "GET",
      "/assets",
      headerMap({
        ...good,
        "x-knarr-publickey": good["x-knarr-publickey"]!.toUpperCase(),
        "x-knarr-signature": good["x-knarr-signature"]!.toUpperCase(),
      }),
    );
    assert(result.ok && result.publicKey === V.signer.public_key);
  }
  // A leading zero is still a plain integer, and the signed text is the header's text.
  const verifier = new RequestVerifier({ clock: manualClock(TS) });
  const signature = await identity.sign(
    new TextEncoder().encode(signedString("GET", "/assets", "01700000000")),
  );
  const padded = await verifier.verify(
    "GET",
    "/assets",
    headerMap({
      ...good,
      "x-knarr-signature": signature,
      "x-knarr-timestamp": "01700000000",
    }),
  );
  assert(padded.ok);
});

Deno.test("RequestVerifier.verify() refuses a replayed signature until its timestamp leaves the window", async () => {
  const identity = await signer();
  const clock = manualClock(TS);
  const verifier = new RequestVerifier({ clock });
  const headers = headerMap(
    await signRequest(identity, "GET", HASH_PATH, { timestamp: TS }),
  );
  assert((await verifier.verify("GET", HASH_PATH, headers)).ok);
  const replayed = { ok: false, reason: "replayed signature" };
  assertEquals(await verifier.verify("GET", HASH_PATH, headers), replayed);
  // Upper case is the same signature.
  const upper = new Map(headers);
  upper.set(
    "x-knarr-signature",
    headers.get("x-knarr-signature")!.toUpperCase(),
  );
  assertEquals(await verifier.verify("GET", HASH_PATH, upper), replayed);
  clock.set(TS + AUTH_WINDOW_SECONDS);
  assertEquals(await verifier.verify("GET", HASH_PATH, headers), replayed);
  // Past the window the old request is stale, and the same request signed now is new.
  clock.set(TS + AUTH_WINDOW_SECONDS + 1);
  assertEquals(await verifier.verify("GET", HASH_PATH, headers), {
    ok: false,
    reason: "timestamp 61 s from server time",
  });
  const fresh = headerMap(
    await signRequest(identity, "GET", HASH_PATH, {
      timestamp: TS + AUTH_WINDOW_SECONDS + 1,
    }),
  );
  assert((await verifier.verify("GET", HASH_PATH, fresh)).ok);
  assertEquals(await verifier.verify("GET", HASH_PATH, fresh), replayed);
});

Deno.test("RequestVerifier.verify() accepts only one of two concurrent copies", async () => {
  const identity = await signer();
  const verifier = new RequestVerifier({ clock: manualClock(TS) });
  const headers = headerMap(
    await signRequest(identity, "GET", HASH_PATH, { timestamp: TS }),
  );
  const results = await Promise.all([
    verifier.verify("GET", HASH_PATH, headers),
    verifier.verify("GET", HASH_PATH, headers),
  ]);
  assertEquals(results.filter((r) => r.ok).length, 1);
  assertEquals(results.find((r) => !r.ok), {
    ok: false,
    reason: "replayed signature",
  });
});

/** A verifier on a manual clock at TS, and a signed GET of `path` stamped `timestamp`. */
async function floodable(maxRemembered: number) {
  const identity = await signer();
  const clock = manualClock(TS);
  const verifier = new RequestVerifier({ clock }, { maxRemembered });
  const headers = new Map<string, Map<string, string>>();
  const request = async (path: string, timestamp: number) => {
    const id = `${path}@${timestamp}`;
    if (!headers.has(id)) {
      headers.set(
        id,
        headerMap(await signRequest(identity, "GET", path, { timestamp })),
      );
    }
    return await verifier.verify("GET", path, headers.get(id)!);
  };
  return { clock, verifier, request };
}

Deno.test("RequestVerifier.verify() keeps taking fresh requests once a flood fills its replay memory, without a replay hole", async () => {
  const { verifier, request } = await floodable(10);
  for (let i = 0; i < 10; i++) {
    assert((await request(`/assets/flood-${i}`, TS - 30 + (i >> 2))).ok);
  }
  assertEquals(verifier.remembered, 10);
  // Before: "too many signed requests in the window" for everyone until the flood aged out.
  assert((await request("/assets/honest", TS)).ok);
  assertEquals(verifier.remembered, 7);
  // The forgotten second is refused from then on: its requests cannot be replayed.
  assertEquals(await request("/assets/flood-0", TS - 30), {
    ok: false,
    reason: "timestamp older than the replay memory still covers",
  });
  assertEquals(await request("/assets/flood-4", TS - 29), {
    ok: false,
    reason: "replayed signature",
  });
  assertEquals(await request("/assets/honest", TS), {
    ok: false,
    reason: "replayed signature",
  });
});

Deno.test("RequestVerifier.verify() refuses timestamps far ahead once its replay memory is half full", async () => {
  const { request } = await floodable(10);
  assert((await request("/assets/early", TS + 60)).ok);
  for (let i = 0; i < 4; i++) assert((await request(`/assets/${i}`, TS)).ok);
  // Half full: a flood stamped a minute ahead would hold its slots for two minutes.
  assertEquals(await request("/assets/ahead", TS + 6), {
    ok: false,
    reason: "timestamp ahead of server time while the replay memory is busy",
  });
  assert((await request("/assets/ahead", TS + 5)).ok);
});

Deno.test("RequestVerifier.verify() refuses newcomers rather than forget the last seconds, and forgets what leaves the window", async () => {
  const { clock, request } = await floodable(4);
  for (let i = 0; i < 4; i++) assert((await request(`/assets/${i}`, TS)).ok);
  const full = { ok: false, reason: "too many signed requests in the window" };
  assertEquals(await request("/assets/late", TS), full);
  clock.set(TS + 5);
  assertEquals(await request("/assets/late", TS + 5), full);
  // Past the margin the oldest second gives way; its requests are refused as too old.
  clock.set(TS + 6);
  assert((await request("/assets/late", TS + 6)).ok);
  assertEquals(await request("/assets/0", TS), {
    ok: false,
    reason: "timestamp older than the replay memory still covers",
  });
  // A second out of the window frees its places without raising the floor.
  clock.set(TS + 6 + AUTH_WINDOW_SECONDS + 1);
  for (let i = 0; i < 4; i++) {
    assert((await request(`/assets/next-${i}`, TS + 67)).ok);
  }
});
