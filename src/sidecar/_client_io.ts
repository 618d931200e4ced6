/** The sidecar client's byte work: hashing and sending files, reading answers. */
import { createHash } from "node:crypto";
import { isHex64, sleep } from "../util/mod.ts";
import { contentLength } from "./_http.ts";
import type { BufferedReader, ResponseHead } from "./_http.ts";
import { writeAll } from "./_http.ts";
import type { Duplex } from "./_duplex.ts";

/** An answer whose head has been read. */
export interface Answer {
  conn: Duplex;
  head: ResponseHead;
  reader: BufferedReader;
}

/** A request body: its size and how to send it. */
export type Body = { size: number; send: (conn: Duplex) => Promise<void> };

const CHUNK_BYTES = 1024 * 1024;
const MAX_JSON_BYTES = 4 * 1024 * 1024;
const decoder = new TextDecoder();

/** Throws `TypeError` unless `hash` is 64 lowercase hex characters. */
export function checkHash(hash: string): void {
  if (!isHex64(hash)) {
    throw new TypeError(
      `Invalid asset hash "${
        String(hash).slice(0, 80)
      }": expected 64 lowercase hex characters`,
    );
  }
}

/** SHA-256 of bytes, hex. */
export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 and size of a file, read in 1 MiB chunks. */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ hash: string; size: number }> {
  using file = await Deno.open(path);
  const hash = createHash("sha256");
  const buffer = new Uint8Array(CHUNK_BYTES);
  let size = 0;
  for (;;) {
    signal?.throwIfAborted();
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    size += n;
  }
  return { hash: hash.digest("hex"), size };
}

/** Sends `size` bytes of a file, reading the next chunk while the last one is written. */
export async function sendFile(
  conn: Duplex,
  path: string,
  size: number,
  options: { onProgress?: ((done: number, total: number) => void) | undefined },
): Promise<void> {
  using file = await Deno.open(path);
  const buffers = [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
  let sent = 0;
  let writing: Promise<void> = Promise.resolve();
  for (let k = 0; sent < size; k++) {
    const buffer = buffers[k & 1]!;
    const n = await readFull(
      file,
      buffer.subarray(0, Math.min(CHUNK_BYTES, size - sent)),
    );
    if (n === 0) {
      throw new Error(
        `Cannot upload "${path}": the file shrank while it was sent`,
      );
    }
    await writing;
    sent += n;
    const done = sent;
    writing = writeAll(conn, buffer.subarray(0, n)).then(() =>
      options.onProgress?.(done, size)
    );
  }
  await writing;
}

async function readFull(
  file: Deno.FsFile,
  buffer: Uint8Array,
): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
}

/** Reads a JSON answer body (by Content-Length, else to EOF) and closes the connection. */
export async function readJson(
  answer: Answer,
  action: string,
): Promise<unknown> {
  try {
    const declared = contentLength(answer.head.headers);
    const limit = declared ?? MAX_JSON_BYTES;
    if (limit > MAX_JSON_BYTES) {
      throw new Error(
        `Cannot ${action}: answer of ${limit} bytes is too large`,
      );
    }
    const buffer = new Uint8Array(limit);
    let filled = 0;
    while (filled < limit) {
      const n = await answer.reader.read(buffer.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    const text = decoder.decode(buffer.subarray(0, filled));
    if (text.trim() === "") return null;
    try {
      return JSON.parse(text);
    } catch {
      return { error: text.slice(0, 200) };
    }
  } finally {
    answer.conn.close();
  }
}

/** The `error` member of a JSON error body, or "". */
export function errorOf(body: unknown): string {
  if (body !== null && typeof body === "object" && "error" in body) {
    return String((body as { error: unknown }).error);
  }
  return "";
}

/** One entry of a sidecar's asset list. */
export interface ListedAsset {
  /** SHA-256, 64 lowercase hex. */
  hash: string;
  /** Bytes. */
  size: number;
  /** Unix seconds of the upload. */
  uploaded_at: number;
  /** Downloads the sidecar counted. */
  access_count: number;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * The asset list in a sidecar's answer, its entries copied field by field; throws when the
 * answer is not one (another node's sidecar may answer anything).
 */
export function assetListOf(
  body: unknown,
): { assets: ListedAsset[]; total_size: number } {
  const list = body as { assets?: unknown; total_size?: unknown } | null;
  const assets =
    typeof list === "object" && list !== null && isCount(list.total_size) &&
      Array.isArray(list.assets)
      ? list.assets.map((a: Record<string, unknown> | null) =>
        typeof a === "object" && a !== null && isHex64(a.hash) &&
          isCount(a.size) &&
          typeof a.uploaded_at === "number" && Number.isFinite(a.uploaded_at) &&
          isCount(a.access_count)
          ? {
            hash: a.hash,
            size: a.size,
            uploaded_at: a.uploaded_at,
            access_count: a.access_count,
          }
          : null
      )
      : null;
  if (assets === null || assets.some((a) => a === null)) {
    throw new Error(
      "Cannot list assets: the sidecar's answer is not an asset list",
    );
  }
  return {
    assets: assets as ListedAsset[],
    total_size: list!.total_size as number,
  };
}

/** Waits until just past the next whole second (or the signal). */
export function sleepToNextSecond(
  now: number,
  signal?: AbortSignal,
): Promise<void> {
  return sleep(Math.max(10, (Math.floor(now) + 1 - now) * 1000 + 5), signal);
}
