/**
 * Fuzz target of the sidecar client: what a peer's sidecar answers (over real TLS, pinned to
 * its node id) when this node checks, downloads, lists or deletes an asset.
 */
import { Identity } from "../../../src/crypto/mod.ts";
import {
  createCertificate,
  SidecarClient,
  type SidecarTarget,
} from "../../../src/sidecar/mod.ts";
import { sha256Hex } from "../../../src/util/mod.ts";
import {
  ensure,
  FuzzFailure,
  type FuzzTarget,
  isCleanError,
  pieces,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, streamed } from "../mutate.ts";

const CONTENT = utf8("hello knarr asset\n");
const HASH = await sha256Hex(CONTENT);

const OPS = ["head", "download", "list", "delete"] as const;

function answer(status: string, body: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${
    utf8(body).length
  }\r\nConnection: close\r\n\r\n${body}`;
}

/** Real answers of a sidecar to each operation, the operation's index in the first byte. */
const ANSWERS: readonly Uint8Array[] = [
  [
    0,
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 18\r\nConnection: close\r\n\r\n",
  ],
  [0, answer("404 Not Found", '{"error":"Asset not found"}')],
  [
    1,
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 18\r\nConnection: close\r\n\r\nhello knarr asset\n",
  ],
  [1, answer("404 Not Found", '{"error":"Asset not found"}')],
  [
    2,
    answer(
      "200 OK",
      `{"assets":[{"hash":"${HASH}","size":18,"uploaded_at":1700000000,"access_count":2}],"total_size":18}`,
    ),
  ],
  [3, answer("200 OK", '{"status":"ok"}')],
  [3, answer("403 Forbidden", '{"error":"Forbidden"}')],
].map(([op, text]) => {
  const bytes = utf8(text as string);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = op as number;
  out.set(bytes, 1);
  return out;
});

/** A refusal in the house style: a named error, or an Error whose message says what failed. */
function isCleanRefusal(error: unknown): boolean {
  if (!isCleanError(error, [Error])) return false;
  const e = error as Error;
  return e.constructor !== Error || e.message.startsWith("Cannot ");
}

const client: FuzzTarget = {
  name: "sidecar.client",
  about:
    "SidecarClient head/download/list/delete against a pinned TLS peer answering fuzzed bytes in split writes: clean refusals, checked results",
  quickRuns: 60,
  longRunShare: 0.25,
  input: () =>
    streamed(
      mutatedBytes(ANSWERS, {
        tokens: [
          "\r\n",
          "Content-Length: ",
          "Content-Length: 99999999",
          "HTTP/1.1 401 Unauthorized",
          "null",
          "[]",
          "{}",
          '"assets":',
          "-1",
        ],
      }),
      8,
    ),
  async open() {
    const identity = await Identity.fromSeed(new Uint8Array(32).fill(0x44));
    const certificate = await createCertificate(identity);
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    let reply: { data: Uint8Array; cuts: number[] } = {
      data: new Uint8Array(),
      cuts: [],
    };
    const handlers = new Set<Promise<void>>();
    const serving = (async () => {
      for await (const conn of listener) {
        const handler: Promise<void> = (async () => {
          try {
            // The request head (and the rest, if any): read until the blank line.
            const buffer = new Uint8Array(16_384);
            let seen = "";
            while (!seen.includes("\r\n\r\n")) {
              const n = await conn.read(buffer);
              if (n === null) break;
              seen += new TextDecoder().decode(buffer.subarray(0, n));
            }
            for (const piece of pieces(reply.data.subarray(1), reply.cuts)) {
              for (let at = 0; at < piece.length;) {
                at += await conn.write(piece.subarray(at));
              }
            }
          } catch {
            // the client hung up
          } finally {
            try {
              conn.close();
            } catch { /* closed */ }
          }
        })().finally(() => handlers.delete(handler));
        handlers.add(handler);
      }
    })();
    const dir = await Deno.makeTempDir({ prefix: "knarr-fuzz-client-" });
    const sidecar = new SidecarClient({ identity: await Identity.generate() }, {
      timeoutMs: 2_000,
    });
    const target: SidecarTarget = {
      nodeId: identity.nodeId,
      host: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    };
    return {
      async check({ data, cuts }) {
        reply = { data, cuts };
        const op = OPS[(data[0] ?? 0) % OPS.length]!;
        const path = `${dir}/download`;
        try {
          switch (op) {
            case "head": {
              const size = await sidecar.head(target, HASH);
              ensure(
                size === null || (Number.isSafeInteger(size) && size >= 0),
                `head() gave ${size}`,
              );
              break;
            }
            case "download": {
              const size = await sidecar.download(target, HASH, path);
              const bytes = await Deno.readFile(path);
              ensure(
                size === bytes.length && await sha256Hex(bytes) === HASH,
                "download() kept a file that is not the asset",
              );
              await Deno.remove(path);
              break;
            }
            case "list": {
              const listed = await sidecar.list(target);
              ensure(
                typeof listed === "object" && listed !== null &&
                  Array.isArray(listed.assets) &&
                  typeof listed.total_size === "number" &&
                  listed.assets.every((a) =>
                    typeof a === "object" && a !== null &&
                    /^[0-9a-f]{64}$/.test(a.hash) &&
                    Number.isSafeInteger(a.size) &&
                    typeof a.uploaded_at === "number" &&
                    Number.isSafeInteger(a.access_count)
                  ),
                `list() gave ${JSON.stringify(listed)?.slice(0, 120)}`,
              );
              break;
            }
            case "delete": {
              const deleted = await sidecar.delete(target, HASH);
              ensure(typeof deleted === "boolean", `delete() gave ${deleted}`);
              break;
            }
          }
        } catch (error) {
          if (error instanceof FuzzFailure) throw error;
          if (!isCleanRefusal(error)) {
            throw new FuzzFailure(
              `SidecarClient ${op}() threw ${(error as Error)?.name}: ${
                (error as Error)?.message
              }`,
              { cause: error },
            );
          }
        }
        const left = [...Deno.readDirSync(dir)].map((e) => e.name);
        ensure(left.length === 0, `a ${op}() left ${left.join(", ")} behind`);
      },
      async close() {
        listener.close();
        await serving.catch(() => {});
        await Promise.all(handlers);
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
};

/** The sidecar client's target. */
export const SIDECAR_CLIENT_TARGETS: readonly FuzzTarget[] = [client];
