/** The byte stream a sidecar connection is, whichever socket or TLS stack carries it. */
import type { Reader, Writer } from "./_http.ts";

/** A duplex byte stream. */
export interface Duplex extends Reader, Writer {
  /** Ends our direction (TLS close_notify); reads may go on. */
  closeWrite(): Promise<void>;
  /** Closes both directions; idempotent. */
  close(): void;
}

/** A socket as a {@linkcode Duplex} whose close may be called twice. */
export function duplexOf(conn: Deno.Conn): Duplex {
  return {
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    closeWrite: () => conn.closeWrite(),
    close: () => safeClose(conn),
  };
}

/** Closes a socket or listener that may already be closed. */
export function safeClose(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed
  }
}
