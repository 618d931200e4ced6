/** The reader options of framed connections, derived once per connection options object. */
import type { ByteSource, FrameReaderOptions } from "./frame_reader.ts";
import { formatAddress } from "./connection_limits.ts";
import type { ConnectionLimits } from "./connection_limits.ts";

// The reader options of each connection options object, made once: they are the same for
// every connection of a server, and a connection then costs no options object of its own.
// (Options objects are not changed once connections are made with them.)
const readerOptions = new WeakMap<ConnectionLimits, FrameReaderOptions>();

/** The reader options of connections made with `options` (the same object for all of them). */
export function readerOptionsOf(options: ConnectionLimits): FrameReaderOptions {
  let made = readerOptions.get(options);
  if (made === undefined) {
    made = {
      ...(options.minFrameBytes === undefined
        ? {}
        : { minFrameBytes: options.minFrameBytes }),
      ...(options.maxFrameBytes === undefined
        ? {}
        : { maxFrameBytes: options.maxFrameBytes }),
      ...(options.initialReadBufferBytes === undefined
        ? {}
        : { initialBufferBytes: options.initialReadBufferBytes }),
      ...(options.frameLimit === undefined
        ? {}
        : { frameLimit: options.frameLimit }),
      retainFrames: options.retainFrames ?? false,
      // Formatted when a frame error needs it: an idle connection holds no string for it.
      peer: peerOf,
    };
    readerOptions.set(options, made);
  }
  return made;
}

function peerOf(source: ByteSource): string {
  return `"${formatAddress((source as Deno.Conn).remoteAddr as Deno.NetAddr)}"`;
}
