/** Test support: the vector files decoded losslessly (readVector's JSON.parse loses 1.0 vs 1). */
import { parseJson } from "./json_parse.ts";
import type { JsonObject } from "./json_value.ts";

/** Reads tests/vectors/<name> with the wire's lossless parser. */
export function readLosslessVector<T = JsonObject>(name: string): T {
  const url = new URL(`../../tests/vectors/${name}`, import.meta.url);
  return parseJson(Deno.readTextFileSync(url)) as T;
}

/** Hex of bytes, for comparing with the vectors' *_hex fields. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
