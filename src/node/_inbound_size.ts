/** How large a received message may be, by its type, before the node pays for a parse. */
import { MAX_FRAME_BYTES } from "../wire/mod.ts";

/**
 * Any message may be this large: well above an honest ANNOUNCE (its sheet is at most
 * 4,096 bytes of ASCII JSON, its envelope under 2 KiB), QUERY, JOIN or HEARTBEAT.
 */
export const SMALL_MESSAGE_BYTES = 16 * 1024;
/**
 * A Kademlia PLUGIN_MESSAGE: twice the largest honest answer (GET_PROVIDERS_RESP with
 * its 100 signed provider records, about 55 KiB with the payload's escapes).
 */
export const PLUGIN_MESSAGE_BYTES = 128 * 1024;
/** A TASK_REQUEST's fields beside `input_data` (ids, address, skill name, signature). */
export const TASK_ENVELOPE_BYTES = 16 * 1024;

/** What the limits depend on. */
export interface InboundSizeState {
  /** The largest `max_input_size` of the node's own skills (0 without skills). */
  largestInput(): number;
  /** Whether the node waits for pushed TASK_RESULTs of its own requests. */
  awaitingResults(): boolean;
}

/**
 * The most bytes a received message of `type` may have (null: type unknown). Parsing a
 * JSON frame costs up to ≈ 200 ns a byte, so a 1 MiB frame of junk nesting takes a
 * core for a tenth of a second; only the messages that honestly carry large data get
 * large limits: a TASK_REQUEST as large as the node's largest skill input, a pushed
 * TASK_RESULT while the node awaits one, a Kademlia message its payload limit.
 */
export function inboundLimit(
  type: string | null,
  state: InboundSizeState,
): number {
  switch (type) {
    case "TASK_REQUEST":
      return Math.min(
        MAX_FRAME_BYTES,
        Math.max(
          SMALL_MESSAGE_BYTES,
          state.largestInput() + TASK_ENVELOPE_BYTES,
        ),
      );
    case "TASK_RESULT":
      return state.awaitingResults() ? MAX_FRAME_BYTES : SMALL_MESSAGE_BYTES;
    case "PLUGIN_MESSAGE":
      return PLUGIN_MESSAGE_BYTES;
    default:
      return SMALL_MESSAGE_BYTES;
  }
}

/** The most bytes a received message of any type may have now. */
export function largestInbound(state: InboundSizeState): number {
  return Math.max(
    SMALL_MESSAGE_BYTES,
    PLUGIN_MESSAGE_BYTES,
    inboundLimit("TASK_REQUEST", state),
    inboundLimit("TASK_RESULT", state),
  );
}
