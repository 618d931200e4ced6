/** Interfaces the discovery layer codes against; the node implements them. */
import type { HostPort } from "../config/mod.ts";
import type { Message, MessageFields, MessageType } from "../wire/mod.ts";

/** Unix time in seconds (fractional); injectable for tests. */
export interface Clock {
  /** Current time in unix seconds. */
  now(): number;
}

/** The system clock. */
export const SYSTEM_CLOCK: Clock = { now: () => Date.now() / 1000 };

/** Options of one outbound request. */
export interface RequestOptions {
  /** Reply deadline in ms. */
  timeoutMs?: number;
  /** Cancels the request; it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Outbound signed messaging: the node signs, frames, sends and verifies replies. */
export interface Messenger {
  /**
   * Signs a message of `type` and sends it to `to` on a fresh connection; resolves the
   * verified reply, or null when the peer closes without a valid reply. Throws when the
   * peer cannot be reached or does not answer in time.
   */
  request<T extends MessageType>(
    to: HostPort,
    type: T,
    fields: MessageFields<T>,
    options?: RequestOptions,
  ): Promise<Message | null>;
  /** Sends an already signed message as it is (gossip forwarding); like `request`. */
  forward(
    to: HostPort,
    message: Message,
    options?: RequestOptions,
  ): Promise<Message | null>;
}

/** This node as others should reach it. */
export interface SelfAddress {
  /** Lowercase hex SHA-256 of the public key. */
  nodeId: string;
  /** 64 lowercase hex characters of the raw Ed25519 public key. */
  publicKey: string;
  /** The advertised host. */
  host: string;
  /** The advertised TCP port. */
  port: number;
  /** The advertised asset sidecar port; 0 when there is none. */
  sidecarPort: number;
}
