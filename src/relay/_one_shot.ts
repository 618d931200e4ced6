/** One request on its own connection: connect, send one frame, wait for the reply, close. */
import { connect, formatAddress } from "../net/mod.ts";
import { ConnectionClosedError } from "./errors.ts";
import { FRAME_HEADER_BYTES, KEEP_FRAME_LIMITS } from "./frame.ts";
import { decodePacket } from "./packet.ts";
import type { Packet } from "./packet.ts";
import { isRelayReply } from "./_keep_session.ts";
import type { KeepRequest } from "./_keep_session.ts";

/** Sends `frame`; with `waitReply`, resolves with the relay's reply to `id` (else null). */
export async function oneShot(
  address: { host: string; port: number },
  request: KeepRequest,
  signal: AbortSignal,
): Promise<Packet | null> {
  const conn = await connect(address.host, address.port, {
    signal,
    ...KEEP_FRAME_LIMITS,
  });
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.writeFrame(request.frame);
    if (!request.waitReply) return null;
    for (;;) {
      const frame = await conn.readFrame();
      if (frame === null) {
        const remote = formatAddress(conn.remote);
        if (conn.readEnd === "malformed") {
          throw new ConnectionClosedError(
            `Connection to "${remote}" failed: ${conn.closeReason}`,
          );
        }
        throw new ConnectionClosedError(
          `Connection to "${remote}" closed before the reply to "${request.id}"`,
        );
      }
      // Packets routed to our src (it registered) or a heartbeat may come first.
      const packet = decodePacket(frame.slice(FRAME_HEADER_BYTES));
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
