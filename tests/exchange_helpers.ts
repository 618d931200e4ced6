/** One request frame on a new TCP connection to a node, and its reply, for wire-level tests. */
import { Buffer } from "node:buffer";
import net from "node:net";
import { decodeMessage } from "../src/wire/mod.ts";

/**
 * Sends `frame` (length prefix included) to 127.0.0.1:`port` from `localAddress` (any
 * loopback address: tests tell peers apart by it) and resolves the first reply frame's
 * message, or null when the node closes the connection first.
 */
export function exchangeFrame(
  port: number,
  frame: Uint8Array,
  localAddress = "127.0.0.1",
): Promise<Record<string, unknown> | null> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    socket.on("connect", () => socket.write(frame));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < 4) return;
      const got = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      chunks.length = 0;
      chunks.push(got);
      const length = got.readUInt32BE(0);
      if (size < 4 + length) return;
      socket.destroy();
      resolve(
        decodeMessage(new Uint8Array(got.subarray(4, 4 + length))) as Record<
          string,
          unknown
        >,
      );
    });
    socket.on("close", () => resolve(null));
    socket.on("error", () => {});
  });
}
