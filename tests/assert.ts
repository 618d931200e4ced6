/** The one assertion module every test imports (node:assert/strict underneath). */
export {
  deepEqual as assertEquals,
  equal as assertStrictEquals,
  match as assertMatch,
  notDeepEqual as assertNotEquals,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";

/** Reads a JSON vector file from tests/vectors/ (copied from shared/vectors/). */
export function readVector<T = unknown>(name: string): T {
  return JSON.parse(
    Deno.readTextFileSync(new URL(`./vectors/${name}`, import.meta.url)),
  ) as T;
}
