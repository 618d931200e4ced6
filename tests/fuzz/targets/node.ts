/**
 * Fuzz targets of a whole node (in memory, no sockets): what peers send it, signed so that it
 * gets past the signature check into discovery, tasks, Kademlia and the reach check; and what
 * peers answer to the requests it makes (join, sync, query, task).
 */
import fc from "fast-check";
import { encodeRpc } from "../../../src/discovery/kademlia/mod.ts";
import { validateSheet } from "../../../src/discovery/mod.ts";
import { KnarrNode, MemoryNetwork } from "../../../src/node/mod.ts";
import {
  decodeMessage,
  isJsonObject,
  parseJson,
  signMessage,
  verifyMessage,
} from "../../../src/wire/mod.ts";
import { ensure, FuzzFailure, type FuzzTarget, utf8 } from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, whole } from "../mutate.ts";
import { type Json, jsonText, mutatedJson } from "../mutate_json.ts";
import { MESSAGE_BODIES } from "../seeds.ts";
import { MESSAGE_TREES, resign, signedMessages } from "../signed_inputs.ts";
import { FUZZ_SIGNER, SyncSigner } from "../signer.ts";
import { validRpc } from "./discovery.ts";

const ECHO_SHEET = {
  name: "echo",
  version: "1.0.0",
  description: "Echoes input text back",
  tags: ["example"],
  inputSchema: { text: "string" },
  outputSchema: { text: "string" },
  price: 1,
  maxInputSize: 65_536,
};

/** Fresh inputs of a node's lifetime: a node is replaced after this many, so state stays small. */
const INPUTS_PER_NODE = 2_000;

/** A node on an in-memory network, serving `echo`, paying without a credit limit. */
async function startNode(network: MemoryNetwork): Promise<KnarrNode> {
  const node = await KnarrNode.create({
    transport: network,
    host: "127.0.0.1",
    policy: { minBalance: -1e12 },
    discovery: { requestTimeoutMs: 200, queryTimeoutMs: 300 },
  });
  await node.start({ maintenance: false });
  await node.announce(ECHO_SHEET);
  node.registerHandler("echo", (input) => ({ text: String(input.text ?? "") }));
  return node;
}

/** Fails unless the node answers a signed QUERY with a verified QUERY_RESPONSE. */
async function expectServing(node: KnarrNode, who: string): Promise<void> {
  const query = await signMessage("QUERY", {
    query_type: "name",
    value: "echo",
  }, node.identity);
  const reply = await node.handleBody(
    utf8(jsonText(query as unknown as Json)),
    "127.0.0.1",
  );
  ensure(
    reply instanceof Uint8Array,
    `${who}: the node no longer answers a good QUERY`,
  );
  const verdict = await verifyMessage(decodeMessage(reply));
  ensure(
    verdict.status === "ok" && verdict.message.type === "QUERY_RESPONSE",
    `${who}: the node's answer to a good QUERY is not a verified QUERY_RESPONSE`,
  );
}

const KADEMLIA_ACTIONS = [
  "FIND_NODE",
  "FIND_NODE_RESP",
  "GET_PROVIDERS",
  "GET_PROVIDERS_RESP",
  "PUT_PROVIDER",
];

/** PLUGIN_MESSAGEs of the Kademlia plugin and the reach check, payloads mutated as text. */
const pluginMessages: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.oneof(
    validRpc.map((rpc) => encodeRpc(rpc)),
    fc.constantFrom(...KADEMLIA_ACTIONS).map((action) => ({
      action,
      payload: "",
    })),
  ),
  fc.constantFrom("knarr-kademlia", "knarr-reach", "other"),
).chain(([rpc, plugin]) => {
  const payloads = plugin === "knarr-reach"
    ? ['{"host": "127.0.0.1", "port": 20001}', '{"reachable": true}']
    : [rpc.payload || "{}"];
  return mutatedBytes(payloads.map(utf8), {
    tokens: ['"_reply_port": 1', '"port": 1.5', "[", "{"],
  }).map((payload) => {
    const tree: Json = {
      type: "PLUGIN_MESSAGE",
      msg_id: "00000000-0000-4000-8000-00000000fuzz",
      public_key: FUZZ_SIGNER.publicKey,
      signature: "",
      node_id: FUZZ_SIGNER.nodeId,
      plugin_name: plugin,
      action: plugin === "knarr-reach" ? "CHECK" : rpc.action,
      payload: new TextDecoder().decode(payload),
    };
    return utf8(jsonText(resign(tree)));
  });
});

const message: FuzzTarget = {
  name: "node.message",
  about:
    "KnarrNode.handleBody on mutated messages re-signed by a peer: never throws, replies verify, the node keeps serving",
  quickRuns: 300,
  input: () =>
    whole(fc.oneof(
      { weight: 6, arbitrary: signedMessages() },
      { weight: 2, arbitrary: pluginMessages },
      { weight: 1, arbitrary: mutatedBytes([...MESSAGE_BODIES]) },
      { weight: 1, arbitrary: randomBytes() },
    )),
  async open() {
    const network = new MemoryNetwork();
    let node = await startNode(network);
    let count = 0;
    return {
      async check({ data }) {
        let reply: Uint8Array | null | "close";
        try {
          reply = await node.handleBody(data, "127.0.0.1");
        } catch (error) {
          throw new FuzzFailure(
            `KnarrNode.handleBody() threw ${(error as Error).message}`,
            { cause: error },
          );
        }
        if (reply instanceof Uint8Array) {
          const verdict = await verifyMessage(decodeMessage(reply));
          ensure(
            verdict.status === "ok",
            "the node sent a reply that does not verify",
          );
          ensure(
            verdict.message.public_key === node.identity.publicKey,
            "the node replied with another key",
          );
        }
        if (++count % 50 === 0) await expectServing(node, "after 50 inputs");
        if (count % INPUTS_PER_NODE === 0) {
          await node.close();
          node = await startNode(network);
        }
      },
      async close() {
        await expectServing(node, "at the end");
        await node.close();
      },
    };
  },
};

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

/** The node's targets. */
export const NODE_TARGETS: readonly FuzzTarget[] = [message, replies];
