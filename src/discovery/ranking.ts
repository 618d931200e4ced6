/** Ranking of query results: liveness, freshness, ledger balance, availability. */

/** What the ranking needs to know of one result. */
export interface RankInput {
  nodeId: string;
  /** Unix seconds of last contact with the provider (0 = never). */
  lastSeen: number;
  /** Unix seconds of the announcement (0 = unknown). */
  announcedAt: number;
  /** Our ledger balance with the provider (0 = none). */
  balance: number;
  /** Reported load, or null when unknown. */
  load: number | null;
}

const WEIGHTS = {
  liveness: 0.3,
  freshness: 0.2,
  balance: 0.2,
  availability: 0.3,
} as const;

function normalize(values: number[]): number[] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((v) => (max === min ? 1.0 : (v - min) / (max - min)));
}

/** Scores of each input, in input order. */
export function scores(inputs: readonly RankInput[]): number[] {
  const liveness = normalize(inputs.map((i) => i.lastSeen));
  const freshness = normalize(inputs.map((i) => i.announcedAt));
  const balance = normalize(inputs.map((i) => i.balance));
  const availability = normalize(
    inputs.map((i) => (i.load === null ? 0.5 : 1 - i.load / 10)),
  );
  return inputs.map((_, k) =>
    WEIGHTS.liveness * liveness[k]! + WEIGHTS.freshness * freshness[k]! +
    WEIGHTS.balance * balance[k]! +
    WEIGHTS.availability * availability[k]!
  );
}

/** Sorts items best first by score, ties by node id ascending. Stable for one item. */
export function rank<T>(
  items: readonly T[],
  inputOf: (item: T) => RankInput,
): T[] {
  if (items.length < 2) return [...items];
  const inputs = items.map(inputOf);
  const s = scores(inputs);
  return items
    .map((item, k) => ({ item, score: s[k]!, nodeId: inputs[k]!.nodeId }))
    .sort((a, b) =>
      b.score - a.score ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)
    )
    .map((x) => x.item);
}
