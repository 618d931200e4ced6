/** Provider-signed records: who provides which key, signed so holders cannot forge them. */
import { createHash } from "node:crypto";
import { verifyHex } from "../../crypto/mod.ts";
import { hexToBytes } from "../../util/mod.ts";
import type { Signer } from "../../wire/mod.ts";
import type { RecordProof } from "./rpc_codec.ts";

const encoder = new TextEncoder();

function signedText(
  key: string,
  nodeId: string,
  sidecarPort: number,
  issuedAt: number,
) {
  return encoder.encode(
    `knarr-kademlia-provider\n${key}\n${nodeId}\n${sidecarPort}\n${issuedAt}`,
  );
}

/** Signs a record of `nodeId` (the signer's id) for `key`. */
export async function signRecord(
  signer: Signer,
  record: {
    key: string;
    nodeId: string;
    sidecarPort: number;
    issuedAt: number;
  },
): Promise<RecordProof> {
  const issuedAt = Math.floor(record.issuedAt);
  return {
    publicKey: signer.publicKey,
    issuedAt,
    signature: await signer.sign(
      signedText(record.key, record.nodeId, record.sidecarPort, issuedAt),
    ),
  };
}

/** True when the proof is `nodeId`'s valid signature over this record. */
export async function verifyRecord(
  proof: RecordProof,
  record: { key: string; nodeId: string; sidecarPort: number },
): Promise<boolean> {
  const nodeId = createHash("sha256").update(hexToBytes(proof.publicKey))
    .digest("hex");
  if (nodeId !== record.nodeId) return false;
  return await verifyHex(
    proof.publicKey,
    proof.signature,
    signedText(record.key, record.nodeId, record.sidecarPort, proof.issuedAt),
  );
}
