/**
 * The sidecar's self-signed X.509 certificate, whose key is the node identity key, so
 * `sha256(certificate key) == node_id` and clients can pin it without a CA.
 */
import type { Identity } from "../crypto/mod.ts";
import type { CertificateRepo } from "../store/mod.ts";
import { bytesToHex, hexToBytes, sha256Hex } from "../util/mod.ts";
import {
  bitString,
  DerReader,
  integer,
  sequence,
  TAG,
  time,
  tlv,
  utf8String,
} from "./_der.ts";

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 365;
const SERIAL_BYTES = 16;
// 1.3.101.112, RFC 8410; and 2.5.4.3 (commonName).
const OID_ED25519 = Uint8Array.of(0x2b, 0x65, 0x70);
const OID_COMMON_NAME = Uint8Array.of(0x55, 0x04, 0x03);
const PKCS8_ED25519_PREFIX = hexToBytes("302e020100300506032b657004220420");

/** A certificate with the PEM texts `Deno.listenTls` takes. */
export interface SidecarCertificate {
  /** The DER-encoded certificate. */
  der: Uint8Array;
  /** The certificate as PEM "CERTIFICATE". */
  certPem: string;
  /** The identity key as PEM "PRIVATE KEY" (PKCS#8). */
  keyPem: string;
}

/** Options for {@linkcode createCertificate}. */
export interface CreateCertificateOptions {
  /** Start of validity, unix ms; default `Date.now()`. */
  now?: number;
  /** Days of validity; default 365. */
  days?: number;
}

/**
 * Makes a self-signed Ed25519 certificate for the identity: subject = issuer =
 * `CN=<node id[:16]>`, no extensions.
 *
 * @example
 * ```ts
 * import { Identity } from "../crypto/mod.ts";
 * const cert = await createCertificate(await Identity.generate());
 * using listener = Deno.listenTls({ port: 0, cert: cert.certPem, key: cert.keyPem });
 * ```
 */
export async function createCertificate(
  identity: Identity,
  options: CreateCertificateOptions = {},
): Promise<SidecarCertificate> {
  const now = options.now ?? Date.now();
  const days = options.days ?? DEFAULT_DAYS;
  if (!Number.isFinite(now) || !Number.isFinite(days) || days <= 0) {
    throw new RangeError(
      `Cannot create certificate: now ${now} and days ${days} must be finite, days above 0`,
    );
  }
  const serial = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES));
  // Positive, and no leading zero byte that DER would have to drop.
  serial[0] = (serial[0]! & 0x7f) || 0x01;
  const algorithm = sequence(tlv(TAG.OID, OID_ED25519));
  const name = sequence(
    tlv(
      TAG.SET,
      sequence(
        tlv(TAG.OID, OID_COMMON_NAME),
        utf8String(identity.nodeId.slice(0, 16)),
      ),
    ),
  );
  const tbs = sequence(
    tlv(TAG.CONTEXT_0, integer(Uint8Array.of(2))),
    integer(serial),
    algorithm,
    name,
    sequence(time(now), time(now + days * DAY_MS)),
    name,
    sequence(algorithm, bitString(hexToBytes(identity.publicKey))),
  );
  const signature = await identity.signBytes(tbs);
  const der = sequence(tbs, algorithm, bitString(signature));
  return {
    der,
    certPem: derToPem(der, "CERTIFICATE"),
    keyPem: keyPem(identity),
  };
}

/**
 * The PEM texts for a stored certificate of this identity; throws `TypeError` when
 * its key is not the identity's key, `SyntaxError` when it is not a certificate.
 */
export function certificateFromDer(
  der: Uint8Array,
  identity: Identity,
): SidecarCertificate {
  const info = parseCertificate(der);
  if (bytesToHex(info.publicKey) !== identity.publicKey) {
    throw new TypeError(
      `Cannot use certificate: its key is not the key of node "${
        identity.nodeId.slice(0, 16)
      }…"`,
    );
  }
  return {
    der: Uint8Array.from(der),
    certPem: derToPem(der, "CERTIFICATE"),
    keyPem: keyPem(identity),
  };
}

/**
 * The node's certificate: the stored one when it still belongs to `identity` (even
 * past its dates: clients pin the key, not the clock), otherwise a new one, stored.
 */
export async function loadOrCreateCertificate(
  repo: CertificateRepo,
  identity: Identity,
  options: CreateCertificateOptions = {},
): Promise<SidecarCertificate> {
  const stored = repo.get();
  if (stored) {
    try {
      return certificateFromDer(stored.der, identity);
    } catch {
      // Unreadable, or made for another identity: replace it below.
    }
  }
  const created = await createCertificate(identity, options);
  repo.put(created.der, (options.now ?? Date.now()) / 1000);
  return created;
}

/** What {@linkcode parseCertificate} reads from a certificate. */
export interface CertificateInfo {
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The subject's first common name, or "" when it has none. */
  commonName: string;
  /** Start of validity, unix ms. */
  notBefore: number;
  /** End of validity, unix ms. */
  notAfter: number;
}

/**
 * Reads key, subject CN and validity from any DER X.509 certificate with an Ed25519
 * key. Throws `SyntaxError` for malformed DER, `TypeError` for another key type.
 */
export function parseCertificate(der: Uint8Array): CertificateInfo {
  const r = new DerReader(der);
  const cert = r.expect(TAG.SEQUENCE, 0, der.length, "certificate");
  if (cert.end !== der.length) {
    r.fail(`${der.length - cert.end} bytes after the certificate`);
  }
  const tbs = r.expect(TAG.SEQUENCE, cert.start, cert.end, "tbsCertificate");
  const sigAlg = r.expect(
    TAG.SEQUENCE,
    tbs.end,
    cert.end,
    "signatureAlgorithm",
  );
  const sig = r.expect(TAG.BIT_STRING, sigAlg.end, cert.end, "signature");
  if (sig.end !== cert.end) r.fail("extra element after the signature");

  let at = tbs.start;
  const first = r.read(at, tbs.end);
  if (first.tag === TAG.CONTEXT_0) at = first.end;
  at = r.expect(TAG.INTEGER, at, tbs.end, "serialNumber").end;
  at = r.expect(TAG.SEQUENCE, at, tbs.end, "signature").end;
  at = r.expect(TAG.SEQUENCE, at, tbs.end, "issuer").end;
  const validity = r.expect(TAG.SEQUENCE, at, tbs.end, "validity");
  const notBefore = readTime(r, validity.start, validity.end);
  const notAfter = readTime(r, notBefore.next, validity.end);
  if (notAfter.next !== validity.end) r.fail("extra element in validity");
  const subject = r.expect(TAG.SEQUENCE, validity.end, tbs.end, "subject");
  const spki = r.expect(
    TAG.SEQUENCE,
    subject.end,
    tbs.end,
    "subjectPublicKeyInfo",
  );
  // Optional issuerUniqueID, subjectUniqueID and extensions: only their framing matters.
  for (let next = spki.end; next < tbs.end;) next = r.read(next, tbs.end).end;
  return {
    publicKey: readEd25519Key(r, spki.start, spki.end),
    commonName: readCommonName(r, subject.start, subject.end),
    notBefore: notBefore.ms,
    notAfter: notAfter.ms,
  };
}

/** True when the certificate's Ed25519 key hashes to `nodeId`; false for anything else. */
export async function certificateMatchesNode(
  der: Uint8Array,
  nodeId: string,
): Promise<boolean> {
  try {
    const { publicKey } = parseCertificate(der);
    return (await sha256Hex(publicKey)) === nodeId;
  } catch {
    return false;
  }
}

/** PEM text of DER bytes: `label` armour around base64 lines of 64 characters. */
export function derToPem(der: Uint8Array, label: string): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${
    lines.join("\n")
  }\n-----END ${label}-----\n`;
}

function keyPem(identity: Identity): string {
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(identity.seed, PKCS8_ED25519_PREFIX.length);
  return derToPem(pkcs8, "PRIVATE KEY");
}

function readEd25519Key(r: DerReader, start: number, end: number): Uint8Array {
  const alg = r.expect(TAG.SEQUENCE, start, end, "public key algorithm");
  const oid = r.expect(TAG.OID, alg.start, alg.end, "public key algorithm");
  if (!sameBytes(r.content(oid), OID_ED25519)) {
    throw new TypeError("Cannot read certificate: public key is not Ed25519");
  }
  const key = r.expect(TAG.BIT_STRING, alg.end, end, "public key");
  if (key.end !== end) r.fail("extra element after the public key");
  const bits = r.content(key);
  if (bits.length !== 33 || bits[0] !== 0) {
    r.fail(
      `Ed25519 key must be 32 bytes with no unused bits (got ${bits.length} bytes)`,
    );
  }
  return Uint8Array.from(bits.subarray(1));
}

function readCommonName(r: DerReader, start: number, end: number): string {
  let commonName: string | null = null;
  for (let at = start; at < end;) {
    const rdn = r.expect(TAG.SET, at, end, "relative distinguished name");
    for (let a = rdn.start; a < rdn.end;) {
      const pair = r.expect(TAG.SEQUENCE, a, rdn.end, "attribute");
      const type = r.expect(TAG.OID, pair.start, pair.end, "attribute type");
      const value = r.read(type.end, pair.end);
      if (value.end !== pair.end) r.fail("extra element in an attribute");
      if (commonName === null && sameBytes(r.content(type), OID_COMMON_NAME)) {
        commonName = decodeString(r, value.tag, r.content(value));
      }
      a = pair.end;
    }
    at = rdn.end;
  }
  return commonName ?? "";
}

function decodeString(r: DerReader, tag: number, bytes: Uint8Array): string {
  try {
    switch (tag) {
      case TAG.UTF8_STRING:
      case TAG.PRINTABLE_STRING:
      case TAG.IA5_STRING:
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      case TAG.T61_STRING:
        return new TextDecoder("latin1").decode(bytes);
      case TAG.BMP_STRING:
        return new TextDecoder("utf-16be", { fatal: true }).decode(bytes);
    }
  } catch {
    // Falls through to the failure below.
  }
  return r.fail(
    `common name of tag 0x${tag.toString(16)} is not a readable string`,
  );
}

const UTC_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_RE =
  /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/;

function readTime(
  r: DerReader,
  at: number,
  end: number,
): { ms: number; next: number } {
  const t = r.read(at, end);
  if (t.tag !== TAG.UTC_TIME && t.tag !== TAG.GENERALIZED_TIME) {
    r.fail(`validity time at byte ${at} has tag 0x${t.tag.toString(16)}`);
  }
  let text = "";
  for (const b of r.content(t)) text += String.fromCharCode(b);
  const m = (t.tag === TAG.UTC_TIME ? UTC_RE : GENERALIZED_RE).exec(text);
  if (!m) r.fail(`validity time ${JSON.stringify(text)} is not YYMMDDHHMMSSZ`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as number[];
  const year = t.tag === TAG.UTC_TIME ? (y! >= 50 ? 1900 : 2000) + y! : y!;
  // setUTCFullYear, unlike Date.UTC, does not read years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, mo! - 1, d!);
  date.setUTCHours(h!, mi!, s!);
  // A real date survives the round trip; 31 February rolls over into March.
  if (
    date.getUTCFullYear() !== year || date.getUTCMonth() !== mo! - 1 ||
    date.getUTCDate() !== d! || h! > 23 || mi! > 59 || s! > 59
  ) {
    r.fail(`validity time ${JSON.stringify(text)} is not a valid date`);
  }
  const ms = date.getTime();
  return { ms, next: t.end };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
