/** A client key pair kept on disk as the hex of its 32-byte Ed25519 seed. */
import { dirname } from "node:path";
import { Identity } from "../crypto/mod.ts";
import { bytesToHex, hexToBytes } from "../util/mod.ts";

const SEED_HEX_RE = /^[0-9a-fA-F]{64}$/;

/**
 * Loads the identity whose seed is stored at `path`, or generates one and stores it there
 * (mode 0600, parent directories created).
 *
 * @example
 * ```ts
 * const identity = await loadOrCreateIdentity("./agent.key");
 * ```
 */
export async function loadOrCreateIdentity(path: string): Promise<Identity> {
  let text: string | null = null;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new Error(
        `Cannot read key file "${path}": ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  if (text !== null) {
    const hex = text.trim();
    if (!SEED_HEX_RE.test(hex)) {
      throw new SyntaxError(
        `Cannot load key file "${path}": expected 64 hex characters (an Ed25519 seed)`,
      );
    }
    return await Identity.fromSeed(hexToBytes(hex));
  }
  const identity = await Identity.generate();
  await Deno.mkdir(dirname(path), { recursive: true });
  // createNew: two processes racing to create the key must not overwrite each other's.
  await Deno.writeTextFile(path, bytesToHex(identity.seed) + "\n", {
    mode: 0o600,
    createNew: true,
  });
  return identity;
}
