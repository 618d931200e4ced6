/** The reachability check: ask a peer to dial our advertised address back (plugin `knarr-reach`). */
import type { HostPort } from "../config/mod.ts";
import type { Reply, RequestOptions } from "../discovery/mod.ts";
import type { Logger } from "../util/mod.ts";
import { float } from "../wire/mod.ts";
import type {
  Message,
  MessageFields,
  MessageType,
  PluginMessage,
} from "../wire/mod.ts";

/** Plugin name of the check; nodes without it ignore the message (no reply). */
export const REACH_PLUGIN = "knarr-reach";

const CHECKS_AT_ONCE = 4;
const DIAL_BACK_TIMEOUT_MS = 3_000;

/** Sends a signed message and resolves the verified reply (the node's `sendMessage`). */
export type SendMessage = <T extends MessageType>(
  to: HostPort,
  type: T,
  fields: MessageFields<T>,
  options?: RequestOptions,
) => Promise<Message | null>;

/** Collaborators of {@linkcode ReachCheck}. */
export interface ReachCheckDeps {
  /** This node's id. */
  nodeId: string;
  send: SendMessage;
  log: Logger;
}

/**
 * Answers `CHECK {host, port}`: sends a HEARTBEAT to that address and replies
 * `RESULT {reachable}`, true when the node that asked answered it, signed.
 */
export class ReachCheck {
  #d: ReachCheckDeps;
  #running = 0;

  constructor(deps: ReachCheckDeps) {
    this.#d = deps;
  }

  /** The reply to a `knarr-reach` message, or null (not a check, or too many at once). */
  async handle(
    message: PluginMessage,
    senderId: string,
  ): Promise<Reply | null> {
    if (message.action !== "CHECK") return null;
    const target = parseTarget(message.payload);
    if (target === null || this.#running >= CHECKS_AT_ONCE) return null;
    this.#running++;
    let reachable = false;
    try {
      const reply = await this.#d.send(target, "HEARTBEAT", {
        node_id: this.#d.nodeId,
        timestamp: float(Date.now() / 1000),
        version: "knarr-deno/0.1.0",
      }, { timeoutMs: DIAL_BACK_TIMEOUT_MS });
      reachable = reply?.type === "HEARTBEAT" && reply.node_id === senderId;
    } catch (error) {
      this.#d.log.debug(
        `Reach check of ${target.host}:${target.port} failed: ${
          (error as Error).message
        }`,
      );
    } finally {
      this.#running--;
    }
    return {
      type: "PLUGIN_MESSAGE",
      fields: {
        node_id: this.#d.nodeId,
        plugin_name: REACH_PLUGIN,
        action: "RESULT",
        payload: JSON.stringify({ reachable }),
      },
      msgId: message.msg_id,
    };
  }
}

/** What a node needs to ask: its id, address and `sendMessage` (a `KnarrNode` has them). */
export interface ReachAsker {
  /** The asking node's id; the dial-back must be answered by it. */
  readonly nodeId: string;
  /** The advertised address to be dialed back. */
  readonly address: HostPort;
  /** Signs and sends a message, resolving the verified reply. */
  sendMessage: SendMessage;
}

/**
 * Asks `peer` whether it can dial `node.address` back. Resolves true or false, or null when
 * the peer does not know the check (nodes without it do not answer) or cannot be asked.
 *
 * @example
 * ```ts
 * if (await checkReachable(node, outcome.via!) === false) RelayReach.start(node, { relay });
 * ```
 */
export async function checkReachable(
  node: ReachAsker,
  peer: HostPort,
  options: RequestOptions = {},
): Promise<boolean | null> {
  let reply: Message | null;
  try {
    reply = await node.sendMessage(peer, "PLUGIN_MESSAGE", {
      node_id: node.nodeId,
      plugin_name: REACH_PLUGIN,
      action: "CHECK",
      payload: JSON.stringify(node.address),
    }, { timeoutMs: DIAL_BACK_TIMEOUT_MS + 2_000, ...options });
  } catch {
    return null;
  }
  if (
    reply?.type !== "PLUGIN_MESSAGE" || reply.plugin_name !== REACH_PLUGIN ||
    reply.action !== "RESULT"
  ) {
    return null;
  }
  try {
    const result = JSON.parse(reply.payload) as { reachable?: unknown };
    return typeof result.reachable === "boolean" ? result.reachable : null;
  } catch {
    return null;
  }
}

function parseTarget(payload: string): HostPort | null {
  try {
    const { host, port } = JSON.parse(payload) as Partial<HostPort>;
    if (
      typeof host !== "string" || host === "" || host.length > 256 ||
      !Number.isInteger(port) || port! < 1 || port! > 65535
    ) {
      return null;
    }
    return { host, port: port! };
  } catch {
    return null;
  }
}
