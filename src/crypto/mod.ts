/** Ed25519 identity, signatures and node ids. */
export { Identity } from "./identity.ts";
export { nodeIdOf, verifyBytes, verifyHex } from "./verify.ts";
