/**
 * Iterative lookups over disjoint paths (S/Kademlia): the closest known nodes are dealt
 * round-robin to `d` paths, and a node found by one path is never queried by another,
 * so one eclipsing neighbourhood cannot capture every path.
 */
import type { KadContext } from "./_context.ts";
import { idToBigInt } from "./distance.ts";
import { verifyRecord } from "./record_proof.ts";
import type { WirePeer, WireProvider } from "./rpc_codec.ts";
import { providerKey } from "./skill_keys.ts";
import type { LookupOutcome, LookupStep } from "./types.ts";

/** What a lookup looks for. */
export interface LookupSpec {
  /** FIND_NODE towards `target`, or GET_PROVIDERS of `skillKey` (its key is the target). */
  kind: "nodes" | "providers";
  /** The node id looked up (kind "nodes"). */
  target?: string;
  /** The skill key looked up (kind "providers"). */
  skillKey?: string;
  /** Stop at the first round that brings providers (finding, not putting). */
  stopOnProviders?: boolean;
  /** Cancels the lookup. */
  signal?: AbortSignal;
  /** Called with each request as it completes. */
  onStep?: (step: LookupStep) => void;
}

interface Candidate extends WirePeer {
  d: bigint;
  queried: boolean;
  token?: string;
  answered: boolean;
}

/** Runs one lookup. */
export async function lookup(
  ctx: KadContext,
  spec: LookupSpec,
): Promise<LookupOutcome> {
  const o = ctx.options;
  const self = ctx.deps.self.nodeId;
  const key = spec.kind === "providers"
    ? await providerKey(spec.skillKey ?? "")
    : spec.target!;
  const t = idToBigInt(key);
  ctx.stats.lookups++;
  const out: LookupOutcome = {
    providers: [],
    closest: [],
    rounds: 0,
    requests: 0,
    timeouts: 0,
    steps: [],
  };
  const deadline = new AbortController();
  const timer = ctx.timers.setTimeout(
    () => deadline.abort(),
    o.lookupTimeoutMs,
  );
  const signal = spec.signal
    ? AbortSignal.any([spec.signal, deadline.signal])
    : deadline.signal;
  const seeds = ctx.table.closest(key, o.k);
  const nPaths = Math.max(1, Math.min(o.disjointPaths, seeds.length));
  // Finding stops at the first providers or when a path converges; putting (and node
  // lookups) ask every one of the k closest, whose tokens the puts need.
  const exhaustive = !spec.stopOnProviders;
  const perPath = exhaustive
    ? o.alpha
    : Math.max(1, Math.ceil(o.alpha / nPaths));
  const paths: Candidate[][] = Array.from({ length: nPaths }, () => []);
  const claimed = new Set<string>([self]);
  const claim = (path: Candidate[], p: WirePeer) => {
    if (claimed.has(p.nodeId)) return false;
    claimed.add(p.nodeId);
    path.push({
      ...p,
      d: idToBigInt(p.nodeId) ^ t,
      queried: false,
      answered: false,
    });
    return true;
  };
  seeds.forEach((s, i) => claim(paths[i % nPaths]!, s));
  const found = new Map<string, WireProvider>();
  const done = new Set<number>();
  const sweeping = new Set<number>();
  try {
    while (out.rounds < o.maxRounds && !signal.aborted) {
      const batch: { path: number; c: Candidate }[] = [];
      paths.forEach((path, pi) => {
        if (done.has(pi)) return;
        path.sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0));
        const width = sweeping.has(pi) ? o.alpha : perPath;
        const next = path.slice(0, o.k).filter((c) => !c.queried).slice(
          0,
          width,
        );
        if (next.length === 0) done.add(pi);
        for (const c of next) batch.push({ path: pi, c });
      });
      if (batch.length === 0) break;
      out.rounds++;
      ctx.stats.rounds++;
      const before = paths.map((p) => closestIds(p, o.k));
      await Promise.all(batch.map(async ({ path, c }) => {
        c.queried = true;
        out.requests++;
        const started = ctx.deps.clock.now();
        const requestId = crypto.randomUUID();
        const reply = await ctx.request(
          c,
          spec.kind === "providers"
            ? { action: "GET_PROVIDERS", requestId, skillKey: spec.skillKey! }
            : { action: "FIND_NODE", requestId, target: key },
          signal,
        );
        const step: LookupStep = {
          round: out.rounds,
          path,
          nodeId: c.nodeId,
          host: c.host,
          port: c.port,
          outcome: "timeout",
          peers: 0,
          providers: 0,
          latencyMs: Math.round((ctx.deps.clock.now() - started) * 1000),
        };
        if (reply === null) {
          out.timeouts++;
          ctx.table.remove(c.nodeId);
        } else {
          c.answered = true;
          const peers = reply.action === "FIND_NODE_RESP"
            ? reply.peers
            : reply.closerPeers;
          if (reply.action === "GET_PROVIDERS_RESP") {
            c.token = reply.token;
            for (const p of reply.providers) {
              if (await acceptRecord(p, key)) found.set(p.nodeId, p);
            }
            step.providers = reply.providers.length;
          }
          step.peers = peers.length;
          step.outcome = step.providers > 0 ? "providers" : "peers";
          for (const p of peers) {
            if (p.nodeId === self) continue;
            claim(paths[path]!, p);
          }
        }
        out.steps.push(step);
        spec.onStep?.(step);
      }));
      if (spec.stopOnProviders && found.size > 0) break;
      if (!exhaustive) {
        // Finding: a path whose k closest did not change this round has converged; as
        // in Kademlia's last step, it then asks those of its k closest not yet asked.
        paths.forEach((p, pi) => {
          if (closestIds(p, o.k) === before[pi]) sweeping.add(pi);
        });
      }
    }
  } finally {
    ctx.timers.clearTimeout(timer);
  }
  out.providers = [...found.values()];
  out.closest = paths.flat()
    .filter((c) => c.answered)
    .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0))
    .slice(0, o.k)
    .map(({ nodeId, host, port, token }) => ({
      nodeId,
      host,
      port,
      token: token ?? "",
    }));
  const failed = spec.kind === "providers"
    ? out.providers.length === 0
    : out.closest.length === 0;
  if (failed) ctx.stats.lookupFailures++;
  return out;
}

function closestIds(path: Candidate[], k: number): string {
  return [...path]
    .sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0))
    .slice(0, k)
    .map((c) => c.nodeId)
    .join();
}

async function acceptRecord(p: WireProvider, key: string): Promise<boolean> {
  if (p.skillKey !== "" && (await providerKey(p.skillKey)) !== key) {
    return false;
  }
  if (!p.proof) return true;
  return await verifyRecord(p.proof, {
    key,
    nodeId: p.nodeId,
    sidecarPort: p.sidecarPort,
  });
}
