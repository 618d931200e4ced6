/**
 * Fuzz targets of the asset sidecar: its HTTP/1.1 head reader and parsers, the signed request
 * headers, and peers' certificates.
 */
import fc from "fast-check";
import { Identity } from "../../../src/crypto/mod.ts";
import {
  certificateMatchesNode,
  createCertificate,
  parseCertificate,
  RequestVerifier,
  signedString,
} from "../../../src/sidecar/mod.ts";
// The sidecar's HTTP reader is private to the layer; its fuzz target, like a unit test, reads it.
import {
  BufferedReader,
  contentLength,
  HeadError,
  parseRequestHead,
  parseResponseHead,
} from "../../../src/sidecar/_http.ts";
import { sha256Hex } from "../../../src/util/mod.ts";
import {
  attempt,
  attemptAsync,
  ensure,
  expectClean,
  type FuzzTarget,
  pieces,
  pieceSource,
  sameBytes,
  utf8,
} from "../fuzz_target.ts";
import {
  mutatedBytes,
  randomBytes,
  randomText,
  streamed,
  whole,
} from "../mutate.ts";
import { SIDECAR_HEADS } from "../seeds.ts";
import { FUZZ_SIGNER } from "../signer.ts";

const HTTP_TOKENS = [
  "\r\n",
  "\r\n\r\n",
  "\n",
  ": ",
  ":",
  " ",
  "Content-Length: ",
  "content-length: 99999999999999999",
  "Content-Length: -1",
  "x-knarr-timestamp: ",
  "HTTP/1.0",
  "\u00e9",
  "\t",
];

/** Heads signed by the fuzz signer at the vectors' time, then the vectors' own heads. */
function headSeeds(): Uint8Array[] {
  const ts = SIDECAR_HEADS.timestamp;
  const signed = [
    ["GET", "/assets", undefined],
    [
      "PUT",
      "/assets",
      "ce61e6533018f8e382687fadba0276a3bcdffef2a95cfb4f3529f5a50f81677f",
    ],
    ["DELETE", "/assets/" + "a".repeat(64), undefined],
  ].map(([method, path, hash]) => {
    const signature = FUZZ_SIGNER.sign(
      utf8(signedString(method!, path!, ts, hash)),
    );
    return `${method} ${path} HTTP/1.1\r\n` +
      (hash ? `Content-Length: 18\r\nx-knarr-content-hash: ${hash}\r\n` : "") +
      `x-knarr-publickey: ${FUZZ_SIGNER.publicKey}\r\nx-knarr-signature: ${signature}\r\n` +
      `x-knarr-timestamp: ${ts}\r\n\r\n` + (hash ? "hello knarr asset\n" : "");
  });
  return [
    ...SIDECAR_HEADS.heads,
    ...signed,
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
  ]
    .map(utf8);
}

const LIMITS = [16 * 1024, 64];

/** Where the head ends (index after CRLFCRLF within the first `max` bytes), or -1. */
function headEnd(data: Uint8Array, max: number): number {
  const n = Math.min(data.length, max);
  for (let i = 3; i < n; i++) {
    if (
      data[i] === 10 && data[i - 1] === 13 && data[i - 2] === 10 &&
      data[i - 3] === 13
    ) {
      return i + 1;
    }
  }
  return -1;
}

async function readHead(parts: Uint8Array[], maxBytes: number) {
  const reader = new BufferedReader(pieceSource(parts));
  let head: string | HeadError;
  try {
    head = await reader.readHeadText({
      maxBytes,
      lineTimeoutMs: 10_000,
      totalTimeoutMs: 30_000,
    });
  } catch (error) {
    expectClean(error, [HeadError], "BufferedReader.readHeadText()");
    head = error as HeadError;
  }
  // The body: what is left after the head, as the server reads it.
  const rest: number[] = [];
  const buffer = new Uint8Array(7);
  if (typeof head === "string") {
    for (
      let n = await reader.read(buffer);
      n !== null;
      n = await reader.read(buffer)
    ) {
      rest.push(...buffer.subarray(0, n));
    }
  }
  return { head, rest: Uint8Array.from(rest) };
}

const httpHead: FuzzTarget = {
  name: "sidecar.http-head",
  about:
    "readHeadText, parseRequestHead, parseResponseHead, contentLength: HeadError only; same head and body whole or split",
  input: () =>
    streamed(fc.oneof(
      {
        weight: 5,
        arbitrary: mutatedBytes(headSeeds(), { tokens: HTTP_TOKENS }),
      },
      {
        weight: 2,
        arbitrary: randomText(
          "GETPUT /:HTP1.0\r\nx-knarCotLgh0123456789 ",
          300,
        ),
      },
      { weight: 1, arbitrary: randomBytes(300) },
    )),
  open: () => ({
    async check({ data, cuts }) {
      for (const max of LIMITS) {
        const split = await readHead(pieces(data, cuts), max);
        const once = await readHead([data], max);
        const end = headEnd(data, max);
        if (typeof split.head !== "string" || typeof once.head !== "string") {
          ensure(
            typeof split.head !== "string" && typeof once.head !== "string" &&
              split.head.status === once.head.status &&
              split.head.message === once.head.message,
            `readHeadText (max ${max}) answered differently whole and split`,
          );
          const status = split.head.status;
          ensure(
            end < 0
              ? status === (data.length >= max ? 431 : 400)
              : status === 400,
            `readHeadText (max ${max}) refused with ${status}, expected ${
              end < 0 && data.length >= max ? 431 : 400
            }`,
          );
          continue;
        }
        ensure(
          end >= 0,
          `readHeadText (max ${max}) read a head without its blank line`,
        );
        ensure(
          split.head === once.head,
          `readHeadText (max ${max}) read different heads whole and split`,
        );
        ensure(
          sameBytes(split.rest, data.subarray(end)) &&
            sameBytes(once.rest, data.subarray(end)),
          `the body after the head (max ${max}) is not the bytes after the blank line`,
        );
        const request = attempt(() => parseRequestHead(split.head as string), [
          HeadError,
        ], "parseRequestHead");
        attempt(
          () => parseResponseHead(split.head as string),
          [HeadError],
          "parseResponseHead",
        );
        if (request === undefined) continue;
        ensure(
          request.target.startsWith("/"),
          "parseRequestHead accepted a target not starting with /",
        );
        for (const name of request.headers.keys()) {
          ensure(
            name === name.toLowerCase() && name.length > 0,
            `header name "${name}" is not lowercase`,
          );
        }
        const length = attempt(() => contentLength(request.headers), [
          HeadError,
        ], "contentLength");
        if (length !== undefined && length !== null) {
          ensure(
            Number.isSafeInteger(length) && length >= 0,
            `contentLength gave ${length}`,
          );
        }
      }
    },
  }),
};

const requestAuth: FuzzTarget = {
  name: "sidecar.request-auth",
  about:
    "RequestVerifier over parsed heads: never throws; accepts only a signed request, once; names the signer's node",
  input: () => whole(mutatedBytes(headSeeds(), { tokens: HTTP_TOKENS })),
  open: () => ({
    async check({ data }) {
      const end = headEnd(data, data.length);
      if (end < 0) return;
      const text = new TextDecoder().decode(data.subarray(0, end));
      const head = attempt(
        () => parseRequestHead(text),
        [HeadError],
        "parseRequestHead",
      );
      if (head === undefined) return;
      const verifier = new RequestVerifier({
        clock: { now: () => SIDECAR_HEADS.timestamp },
      });
      const verify = () =>
        attemptAsync(
          () => verifier.verify(head.method, head.target, head.headers),
          [],
          "RequestVerifier.verify()",
        );
      const first = (await verify())!;
      if (!first.ok) return;
      ensure(
        first.nodeId ===
          await sha256Hex(
            Uint8Array.from(
              first.publicKey.match(/../g)!,
              (h) => parseInt(h, 16),
            ),
          ),
        "verify() named another node",
      );
      const replay = (await verify())!;
      ensure(
        !replay.ok,
        "RequestVerifier accepted the same signed request twice",
      );
    },
  }),
};

const CERT_SEEDS: readonly Uint8Array[] = await (async () => {
  const out: Uint8Array[] = [];
  for (
    const [seed, now] of [[1, Date.UTC(2024, 0, 2)], [
      2,
      Date.UTC(2049, 11, 31),
    ], [3, Date.UTC(2051, 5, 7)]] as const
  ) {
    const identity = await Identity.fromSeed(new Uint8Array(32).fill(seed));
    out.push((await createCertificate(identity, { now, days: 365 })).der);
  }
  // Python cryptography's certificate of the vectors' seed, with extensions (certificate_test.ts).
  out.push(Uint8Array.from(
    atob(
      "MIIBeTCCASugAwIBAgIUfxEiM0RVZneImaq7zN3u/wARIjMwBQYDK2VwMDgxCzAJBgNVBAYTAk5PMRMwEQYDVQQKDApLbmFyciBUZXN0MRQwEgYDVQQDEwtweXRob24tcGVlcjAgFw0yNDAxMDIwMzA0MDVaGA8yMDUxMDYwNzA4MDkxMFowODELMAkGA1UEBhMCTk8xEzARBgNVBAoMCktuYXJyIFRlc3QxFDASBgNVBAMTC3B5dGhvbi1wZWVyMCowBQYDK2VwAyEAA6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbijRTBDMAwGA1UdEwEB/wQCMAAwFAYDVR0RBA0wC4IJbG9jYWxob3N0MB0GA1UdDgQWBBT9gabbZNb69/cCwHlxqCwlwdw8kDAFBgMrZXADQQAQDKYeCqjsEna+3WYz+MIu/rVZ8XqABJovBE9/m3rOiFON22wpAhHgzbk4kqUQQiMAoScJWL+5+8U7DicW0yoD",
    ),
    (c) => c.charCodeAt(0),
  ));
  return out;
})();

const certificate: FuzzTarget = {
  name: "sidecar.certificate",
  about:
    "parseCertificate and certificateMatchesNode on a peer's DER: SyntaxError/TypeError only, a 32-byte key and real dates",
  input: () =>
    whole(fc.oneof(
      {
        weight: 6,
        arbitrary: mutatedBytes(CERT_SEEDS, {
          tokens: [
            Uint8Array.of(0x30, 0x80),
            Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff),
            Uint8Array.of(0x1f),
            Uint8Array.of(0x17, 0x0d),
            Uint8Array.of(0x18, 0x0f),
            Uint8Array.of(0x1e, 0x03),
          ],
          maxRepeat: 64,
        }),
      },
      { weight: 1, arbitrary: randomBytes(400) },
    )),
  open: () => ({
    async check({ data }) {
      const info = attempt(() => parseCertificate(data), [
        SyntaxError,
        TypeError,
      ], "parseCertificate");
      const matches = await attemptAsync(
        () => certificateMatchesNode(data, "0".repeat(64)),
        [],
        "certificateMatchesNode",
      );
      ensure(matches === false, "a certificate matched the all-zero node id");
      if (info === undefined) return;
      ensure(
        info.publicKey.length === 32,
        `parseCertificate gave a ${info.publicKey.length}-byte key`,
      );
      ensure(
        Number.isFinite(info.notBefore) && Number.isFinite(info.notAfter),
        "parseCertificate gave a date that is not finite",
      );
      ensure(
        typeof info.commonName === "string",
        "parseCertificate gave a common name that is not a string",
      );
    },
  }),
};

/** The sidecar layer's targets. */
export const SIDECAR_TARGETS: readonly FuzzTarget[] = [
  httpHead,
  requestAuth,
  certificate,
];
