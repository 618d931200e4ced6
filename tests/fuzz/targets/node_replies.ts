/**
 * Fuzz target of a whole node (in memory, no sockets) as a client: what a peer answers to the
 * requests it makes (join, sync, query, task), mutated and signed by that peer.
 */
import fc from "fast-check";
import { validateSheet } from "../../../src/discovery/mod.ts";
import { MemoryNetwork } from "../../../src/node/mod.ts";
import {
  decodeMessage,
  isJsonObject,
  parseJson,
  signMessage,
} from "../../../src/wire/mod.ts";
import { ensure, FuzzFailure, type FuzzTarget, utf8 } from "../fuzz_target.ts";
import { mutatedBytes, whole } from "../mutate.ts";
import { type Json, jsonText, mutatedJson } from "../mutate_json.ts";
import { MESSAGE_TREES, resign } from "../signed_inputs.ts";
import { SyncSigner } from "../signer.ts";
import { expectServing, INPUTS_PER_NODE, startNode } from "./node.ts";

const PEER = new SyncSigner(new Uint8Array(32).fill(0x43));
const PEER_ADDRESS = { host: "10.0.0.2", port: 9000 };

/** Replies a peer answers a node's requests with: the vectors' replies and a stored ANNOUNCE. */
const REPLY_TREES: readonly Json[] = MESSAGE_TREES.filter((m) =>
  isJsonObject(m) &&
  [
    "JOIN_RESPONSE",
    "SYNC_RESPONSE",
    "QUERY_RESPONSE",
    "TASK_RESULT",
    "TASK_STATUS",
    "ACK",
  ].includes(String(m.type))
);

type Operation = "join" | "sync" | "query" | "task";

function operationOf(type: unknown, data: Uint8Array): Operation {
  switch (type) {
    case "JOIN_RESPONSE":
      return "join";
    case "SYNC_RESPONSE":
      return "sync";
    case "QUERY_RESPONSE":
      return "query";
    case "TASK_RESULT":
    case "TASK_STATUS":
    case "ACK":
      return "task";
  }
  return (["join", "sync", "query", "task"] as const)[(data[0] ?? 0) % 4]!;
}

/** The peer's answer to `request`: the fuzzed template made to fit it, signed by the peer. */
function answer(template: Uint8Array, request: Json): Uint8Array {
  let tree: Json;
  try {
    tree = parseJson(template) as Json;
  } catch {
    return template; // not JSON: sent as it is
  }
  if (isJsonObject(tree) && isJsonObject(request)) {
    // Pair it with the request as an honest peer would, so it gets past the matching checks.
    if (
      typeof tree.task_id === "string" && typeof request.task_id === "string"
    ) {
      tree.task_id = request.task_id;
    }
    if (typeof tree.msg_id === "string") tree.msg_id = String(request.msg_id);
  }
  return utf8(jsonText(resign(tree, PEER)));
}

async function signedByPeer(
  type: "JOIN_RESPONSE" | "SYNC_RESPONSE",
  fields: Record<string, unknown>,
): Promise<Uint8Array> {
  const signer = {
    publicKey: PEER.publicKey,
    sign: (data: Uint8Array) => Promise.resolve(PEER.sign(data)),
  };
  return utf8(
    jsonText(
      await signMessage(type, fields as never, signer) as unknown as Json,
    ),
  );
}

const replies: FuzzTarget = {
  name: "node.replies",
  about:
    "a node's join, sync, query and task request answered by a peer with mutated signed replies: no throw, sane results",
  quickRuns: 200,
  longRunShare: 0.25,
  input: () =>
    whole(fc.oneof(
      {
        weight: 6,
        arbitrary: mutatedJson(REPLY_TREES, {
          keys: [
            "peers",
            "results",
            "skills",
            "status",
            "output_data",
            "error",
            "node_id",
            "host",
            "port",
          ],
        }).map((v) => utf8(jsonText(v))),
      },
      {
        weight: 1,
        arbitrary: mutatedBytes(REPLY_TREES.map((v) => utf8(jsonText(v)))),
      },
    )),
  async open() {
    const network = new MemoryNetwork();
    let template = new Uint8Array();
    let fuzzing:
      | "JOIN_REQUEST"
      | "SYNC_REQUEST"
      | "QUERY"
      | "TASK_REQUEST"
      | null = null;
    const emptyJoin = await signedByPeer("JOIN_RESPONSE", { peers: [] });
    const emptySync = await signedByPeer("SYNC_RESPONSE", { skills: [] });
    const listening = await network.listen(
      PEER_ADDRESS.host,
      PEER_ADDRESS.port,
      (body) => {
        let request: Json;
        try {
          request = decodeMessage(body) as Json;
        } catch {
          return Promise.resolve("close");
        }
        const type = isJsonObject(request) ? request.type : undefined;
        if (type === fuzzing) return Promise.resolve(answer(template, request));
        if (type === "JOIN_REQUEST") return Promise.resolve(emptyJoin);
        if (type === "SYNC_REQUEST") return Promise.resolve(emptySync);
        return Promise.resolve("close");
      },
    );
    let node = await startNode(network);
    let count = 0;
    const provider = {
      node_id: PEER.nodeId,
      host: PEER_ADDRESS.host,
      port: PEER_ADDRESS.port,
      skill_sheet: {
        name: "echo",
        version: "1.0.0",
        description: "d",
        tags: ["example"],
        input_schema: { text: "string" },
        output_schema: { text: "string" },
      },
      sidecar_port: 0,
    };
    return {
      async check({ data }) {
        template = new Uint8Array(data);
        let type: unknown;
        try {
          const tree = parseJson(data);
          type = isJsonObject(tree) ? tree.type : undefined;
        } catch {
          type = undefined;
        }
        const op = operationOf(type, data);
        try {
          if (op === "join" || op === "sync") {
            fuzzing = op === "join" ? "JOIN_REQUEST" : "SYNC_REQUEST";
            await node.join([PEER_ADDRESS]);
          } else if (op === "query") {
            fuzzing = null;
            await node.join([PEER_ADDRESS]);
            fuzzing = "QUERY";
            const results = await node.discovery.query({ name: "echo" }, {
              timeoutMs: 300,
            });
            for (const r of results) {
              ensure(
                validateSheet(r.skill_sheet) === null,
                "query() returned an invalid sheet",
              );
              ensure(
                /^[0-9a-f]{64}$/.test(r.node_id),
                "query() returned a bad node id",
              );
              ensure(
                Number.isInteger(r.port) && r.port >= 1 && r.port <= 65535,
                `query() returned port ${r.port}`,
              );
            }
          } else {
            fuzzing = "TASK_REQUEST";
            const outcome = await node.consumer.request(
              "echo",
              { text: "hi" },
              [provider],
              { timeoutMs: 30 },
            );
            ensure(
              outcome.status === "completed" || outcome.status === "failed",
              `request() ended "${outcome.status}"`,
            );
          }
        } catch (error) {
          if (error instanceof FuzzFailure) throw error;
          throw new FuzzFailure(
            `the node's ${op} threw ${(error as Error).message}`,
            { cause: error },
          );
        } finally {
          fuzzing = null;
        }
        for (const peer of node.discovery.peers.list()) {
          ensure(
            typeof peer.host === "string" && Number.isInteger(peer.port) &&
              peer.port >= 1 && peer.port <= 65535,
            `a peer entered the table at ${peer.host}:${peer.port}`,
          );
        }
        if (++count % 50 === 0) await expectServing(node, "after 50 replies");
        if (count % INPUTS_PER_NODE === 0) {
          await node.close();
          node = await startNode(network);
        }
      },
      async close() {
        await expectServing(node, "at the end");
        await node.close();
        await listening.close();
      },
    };
  },
};

/** The node-as-client target. */
export const NODE_REPLIES_TARGETS: readonly FuzzTarget[] = [replies];
