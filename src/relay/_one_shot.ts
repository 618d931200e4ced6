/** One request on its own connection: connect, send one frame, wait for the reply, close. */
import { ConnectionClosedError } from "./errors.ts";
import { FrameReader } from "./frame.ts";
import { decodePacket } from "./packet.ts";
import type { Packet } from "./packet.ts";
import { isRelayReply } from "./_keep_session.ts";
import type { KeepRequest } from "./_keep_session.ts";
import { connectTcp } from "./_tcp.ts";

/** Sends `frame`; with `waitReply`, resolves with the relay's reply to `id` (else null). */
export async function oneShot(
  address: { host: string; port: number },
  request: KeepRequest,
  signal: AbortSignal,
): Promise<Packet | null> {
  const conn = await connectTcp(address.host, address.port, { signal });
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.writeAll(request.frame);
    if (!request.waitReply) return null;
    const reader = new FrameReader(conn, { peer: `"${conn.remote}"` });
    for (;;) {
      const frame = await reader.next();
      if (frame === null) {
        throw new ConnectionClosedError(
          `Connection to "${conn.remote}" closed before the reply to "${request.id}"`,
        );
      }
      // Packets routed to our src (it registered) or a heartbeat may come first.
      const packet = decodePacket(frame.slice(4));
      if (isRelayReply(packet) && packet.id === request.id) return packet;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    conn.close();
  }
}
