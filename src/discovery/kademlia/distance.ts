/** 256-bit XOR distance between node ids and keys (64 lowercase hex characters). */

/** Number of bits in a node id, and of buckets in the routing table. */
export const ID_BITS = 256;

/** The id as an unsigned 256-bit integer. */
export function idToBigInt(id: string): bigint {
  return BigInt(`0x${id}`);
}

/** XOR distance of two ids as an unsigned integer. */
export function xorDistance(a: string, b: string): bigint {
  return idToBigInt(a) ^ idToBigInt(b);
}

/** Number of significant bits of a non-negative integer (0 for 0). */
export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Bucket of `other` seen from `self`: bit_length(distance) − 1; −1 for self. */
export function bucketIndex(self: string, other: string): number {
  return bitLength(xorDistance(self, other)) - 1;
}

/** Sorts items by XOR distance of their id to `target`, closest first (a new array). */
export function sortByDistance<T extends { nodeId: string }>(
  items: readonly T[],
  target: string,
): T[] {
  const t = idToBigInt(target);
  return items
    .map((item) => ({ item, d: idToBigInt(item.nodeId) ^ t }))
    .sort((x, y) => (x.d < y.d ? -1 : x.d > y.d ? 1 : 0))
    .map((x) => x.item);
}
