/** One client connection to a relay: serialized frame writes, a reader, replies matched by id. */
import { formatAddress } from "../net/mod.ts";
import type { FrameConnection } from "../net/mod.ts";
import type { Logger } from "../util/mod.ts";
import { ConnectionClosedError } from "./errors.ts";
import { FRAME_HEADER_BYTES } from "./frame.ts";
import { decodePacket } from "./packet.ts";
import type { Packet } from "./packet.ts";
import { abortable } from "./_abort.ts";

const HEARTBEAT_TYPE = 2;

/** A signed, framed packet and whether the relay's reply is awaited. */
export interface KeepRequest {
  frame: Uint8Array;
  id: string;
  waitReply: boolean;
}

interface Pending {
  id: string;
  resolve(packet: Packet): void;
  reject(error: Error): void;
}

/** Collaborators of {@linkcode KeepSession}. */
export interface KeepSessionDeps {
  /** A connection with the keep frame limits. */
  conn: FrameConnection;
  logger: Logger;
  /** A routed packet, or a relay reply nobody waits for (e.g. `error:offline` of a forward). */
  onPacket(packet: Packet): void;
  /** Called once when the connection ends, with the reason. */
  onClose(error: Error): void;
}

/** True for what the relay itself sends: replies and heartbeats carry no `dst`. */
export function isFromRelay(packet: Packet): boolean {
  return packet.dst === "" && packet.src === "server";
}

/** True for a relay reply (not a heartbeat). */
export function isRelayReply(packet: Packet): boolean {
  return isFromRelay(packet) && packet.typ !== HEARTBEAT_TYPE;
}

/** A live connection; writes never interleave and each frame goes out whole. */
export class KeepSession {
  #deps: KeepSessionDeps;
  #remote: string;
  #pending: Pending[] = [];
  #closed = false;
  #reading: Promise<void>;

  constructor(deps: KeepSessionDeps) {
    this.#deps = deps;
    this.#remote = formatAddress(deps.conn.remote);
    this.#reading = this.#read();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes a frame; with `waitReply`, resolves with the relay's reply to `id` (else null). */
  async request(
    request: KeepRequest,
    signal?: AbortSignal,
  ): Promise<Packet | null> {
    const { frame, id, waitReply } = request;
    if (this.#closed) {
      throw new ConnectionClosedError(
        `Cannot send to "${this.#remote}": connection closed`,
      );
    }
    let pending: Pending | undefined;
    const reply = waitReply
      ? new Promise<Packet>((resolve, reject) => {
        pending = { id, resolve, reject };
        this.#pending.push(pending);
      })
      : null;
    // Registered before writing, so a fast reply cannot miss it; never left unhandled.
    reply?.catch(() => {});
    try {
      await abortable(this.#deps.conn.writeFrame(frame), signal);
      if (reply === null) return null;
      return await abortable(reply, signal);
    } finally {
      const i = pending ? this.#pending.indexOf(pending) : -1;
      if (i >= 0) this.#pending.splice(i, 1);
    }
  }

  /** Closes the connection; pending requests reject with ConnectionClosedError. Idempotent. */
  async close(reason = "closed by the client"): Promise<void> {
    this.#end(
      new ConnectionClosedError(
        `Connection to "${this.#remote}" ${reason}`,
      ),
    );
    await this.#reading;
  }

  async #read(): Promise<void> {
    const { conn } = this.#deps;
    const remote = this.#remote;
    let reason: Error = new ConnectionClosedError(
      `Connection to "${remote}" closed by the relay`,
    );
    try {
      for (;;) {
        const frame = await conn.readFrame();
        if (frame === null) {
          if (conn.readEnd !== "eof" && !this.#closed) {
            reason = new ConnectionClosedError(
              `Connection to "${remote}" failed: ${
                conn.closeReason ?? "read failed"
              }`,
            );
          }
          break;
        }
        this.#dispatch(decodePacket(frame.slice(FRAME_HEADER_BYTES)));
      }
    } catch (error) {
      if (!this.#closed) {
        reason = new ConnectionClosedError(
          `Connection to "${remote}" failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    this.#end(reason);
  }

  #dispatch(packet: Packet): void {
    if (isFromRelay(packet)) {
      if (packet.typ === HEARTBEAT_TYPE) return;
      const i = this.#pending.findIndex((p) => p.id === packet.id);
      if (i >= 0) {
        this.#pending.splice(i, 1)[0]!.resolve(packet);
        return;
      }
    }
    this.#deps.onPacket(packet);
  }

  #end(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.conn.close();
    for (const pending of this.#pending.splice(0)) pending.reject(error);
    this.#deps.logger.debug(error.message);
    this.#deps.onClose(error);
  }
}
