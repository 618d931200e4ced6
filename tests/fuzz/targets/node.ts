/**
 * Fuzz target of a whole node (in memory, no sockets): what peers send it, signed so that it
 * gets past the signature check into discovery, tasks, Kademlia and the reach check.
 */
import fc from "fast-check";
import { encodeRpc } from "../../../src/discovery/kademlia/mod.ts";
import { KnarrNode, MemoryNetwork } from "../../../src/node/mod.ts";
import {
  decodeMessage,
  signMessage,
  verifyMessage,
} from "../../../src/wire/mod.ts";
import { ensure, FuzzFailure, type FuzzTarget, utf8 } from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, whole } from "../mutate.ts";
import { type Json, jsonText } from "../mutate_json.ts";
import { MESSAGE_BODIES } from "../seeds.ts";
import { resign, signedMessages } from "../signed_inputs.ts";
import { FUZZ_SIGNER } from "../signer.ts";
import { mutatedPayloads, validRpc } from "./discovery.ts";

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

/** Inputs in a node's lifetime: a node is replaced after this many, so state stays small. */
export const INPUTS_PER_NODE = 2_000;

/** A node on an in-memory network, serving `echo`, paying without a credit limit. */
export async function startNode(network: MemoryNetwork): Promise<KnarrNode> {
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
export async function expectServing(
  node: KnarrNode,
  who: string,
): Promise<void> {
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

/** A signed PLUGIN_MESSAGE from the fuzz signer. */
function pluginMessage(
  plugin: string,
  action: string,
  payload: string,
): Uint8Array {
  const tree: Json = {
    type: "PLUGIN_MESSAGE",
    msg_id: "00000000-0000-4000-8000-00000000fuzz",
    public_key: FUZZ_SIGNER.publicKey,
    signature: "",
    node_id: FUZZ_SIGNER.nodeId,
    plugin_name: plugin,
    action,
    payload,
  };
  return utf8(jsonText(resign(tree)));
}

/** PLUGIN_MESSAGEs of the Kademlia plugin and the reach check: payloads mutated as text or as JSON. */
const pluginMessages: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(
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
    }).map((payload) =>
      pluginMessage(
        plugin,
        plugin === "knarr-reach" ? "CHECK" : rpc.action,
        new TextDecoder().decode(payload),
      )
    );
  }),
  mutatedPayloads.map((bytes) => {
    const text = new TextDecoder().decode(bytes);
    const split = text.indexOf("\0");
    return pluginMessage(
      "knarr-kademlia",
      text.slice(0, split),
      text.slice(split + 1),
    );
  }),
);

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

/** The node's targets. */
export const NODE_TARGETS: readonly FuzzTarget[] = [message];
