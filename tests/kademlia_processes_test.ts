/**
 * Issue 11's real-process test: 30 `knarr serve` processes on 127.0.0.1 form one network;
 * while `knarr query` processes keep asking for the providers' skills, random nodes (and
 * providers) are killed with SIGKILL and restarted on their own storage, and every query
 * for a provider that is live at that moment must return it.
 */
import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { knarr, spawnKnarr } from "./cli_helpers.ts";

/** Processes in the network (the 2-core CI machine starts 30 in ≈ 3 s, ≈ 2 GB RSS). */
const NODES = 30;
/** Of them, providers of one sandboxed skill each (a Worker costs ≈ 25 MB and ≈ 0.5 s). */
const PROVIDERS = 3;
/** Length of the churn phase. */
const CHURN_MS = 36_000;
/** A non-provider is killed every this many ms... */
const KILL_EVERY_MS = 3_000;
/** ...and restarted this long after. */
const DOWN_MS = 1_500;
/** `knarr query` processes running at once. */
const QUERY_WORKERS = 2;
/**
 * "Live": a provider counts as live for a query that starts at least this long after its
 * `serve` printed `Loaded` (announced, records put, reachable) and ends before it is
 * killed. Queries inside the window are run and counted but not asserted: a restarted
 * provider's new address needs its join, announce and DHT put to spread first.
 */
const LIVE_AFTER_MS = 3_000;
/** The `--timeout` of each query, in seconds (the DHT lookup itself gives up after 5 s). */
const QUERY_TIMEOUT_S = 8;

const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;

/** One `knarr serve` process of the network, across its restarts. */
interface Member {
  index: number;
  dir: string;
  /** The skill it provides, or null. */
  skill: string | null;
  nodeId: string;
  port: number;
  child: Deno.ChildProcess | null;
  /** `performance.now()` when it last printed `Loaded`. */
  upAt: number;
  /** `performance.now()` when it was last killed, -1 while it never was. */
  downAt: number;
  /** Queries using it as their bootstrap right now (it is not killed meanwhile). */
  busy: number;
  /** The last lines of stderr, for the failure message. */
  tail: string[];
  /** Exits we did not cause. */
  crashes: string[];
  drained: Promise<unknown>;
}

/** What one `knarr query` found. */
interface QueryRecord {
  skill: string;
  provider: number;
  via: number;
  startedAt: number;
  endedAt: number;
  /** "live" (asserted), "down" (killed before or during it) or "young" (up < LIVE_AFTER_MS). */
  state: "live" | "down" | "young";
  found: boolean;
  dht: boolean;
  detail: string;
}

/** A small seeded PRNG (mulberry32), so a failing schedule can be read back. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts (or restarts, on its own storage) a member and waits for its `Loaded` line. */
async function start(m: Member, bootstrap: number[]): Promise<void> {
  const child = spawnKnarr([
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--sidecar-port",
    "0",
    "--storage",
    join(m.dir, "node.db"),
    "--log-level",
    "warn",
    ...(bootstrap.length > 0
      ? ["--bootstrap", bootstrap.map((p) => `127.0.0.1:${p}`).join(",")]
      : []),
  ], { cwd: m.dir });
  m.child = child;
  // Neither settled nor live until it prints `Loaded` on its new port.
  m.upAt = Infinity;
  let text = "";
  let loaded!: () => void;
  const ready = new Promise<void>((resolve) => loaded = resolve);
  const stdout = (async () => {
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
      if (/^Loaded /m.test(text)) loaded();
    }
  })();
  const status = child.status.then((s) => {
    if (m.child === child) {
      m.crashes.push(`node ${m.index} exited by itself (${s.code})`);
    }
  });
  m.drained = Promise.all([stdout, keepTail(child.stderr, m.tail), status]);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It exited meanwhile.
    }
  }, 20_000);
  try {
    await Promise.race([ready, m.drained]);
  } finally {
    clearTimeout(timer);
  }
  if (!/^Loaded /m.test(text)) {
    throw new Error(
      `Cannot start node ${m.index}: ${text}${m.tail.join("\n")}`,
    );
  }
  m.nodeId = /^Node ID: ([0-9a-f]{64})$/m.exec(text)![1]!;
  m.port = Number(/^Listening: 127\.0\.0\.1:(\d+)$/m.exec(text)![1]);
  m.upAt = performance.now();
}

/** Reads a stream to its end, keeping its last 30 lines in `tail`. */
async function keepTail(
  stream: ReadableStream<Uint8Array>,
  tail: string[],
): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    tail.push(...chunk.split("\n").filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 30));
  }
}

async function kill(m: Member): Promise<void> {
  const child = m.child;
  if (!child) return;
  m.child = null;
  m.downAt = performance.now();
  try {
    child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  // A broken stream is no reason to skip the cleanup after it.
  await m.drained.catch(() => {});
}

/** The q-quantile of the queries' wall times, in whole ms. */
function percentile(records: readonly QueryRecord[], q: number): number {
  const ms = records.map((r) => r.endedAt - r.startedAt).sort((a, b) => a - b);
  return Math.round(
    ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0,
  );
}

/** Resident memory of a process in MB, from `ps` (reading /proc needs --allow-all). */
async function rssMb(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  return Number(new TextDecoder().decode(stdout).trim() || 0) / 1024;
}

/** Runs one `knarr query --name <skill> --json --trace` through `via`. */
async function query(
  via: Member,
  provider: Member,
  members: readonly Member[],
  liveAfterMs: number,
): Promise<QueryRecord> {
  const skill = provider.skill!;
  const startedAt = performance.now();
  // Live: up long enough before this query, and (checked below) not killed during it.
  const upBefore = provider.child !== null &&
    startedAt - provider.upAt >= liveAfterMs;
  const expectPort = provider.port;
  via.busy++;
  let r;
  try {
    r = await knarr([
      "query",
      "--bootstrap",
      `127.0.0.1:${via.port}`,
      "--name",
      skill,
      "--json",
      "--trace",
      "--timeout",
      String(QUERY_TIMEOUT_S),
    ], { timeoutMs: (QUERY_TIMEOUT_S + 10) * 1000 });
  } finally {
    via.busy--;
  }
  const endedAt = performance.now();
  const state = provider.downAt >= startedAt || provider.child === null
    ? "down"
    : upBefore
    ? "live"
    : "young";
  let found = false;
  if (r.code === 0) {
    const results = JSON.parse(r.stdout) as { node_id: string; port: number }[];
    found = results.some((x) =>
      x.node_id === provider.nodeId && x.port === expectPort
    );
  }
  const dht = /answered by the DHT/.test(r.stderr);
  const names = new Map(members.map((m) => [m.port, m.index]));
  const detail = `query ${skill} (node ${provider.index} at :${expectPort}) ` +
    `via node ${via.index} at :${via.port}, exit ${r.code}, ` +
    `${Math.round(endedAt - startedAt)} ms\n  stdout: ${r.stdout.trim()}\n` +
    r.stderr.trim().split("\n").map((l) =>
      `  ${
        l.replace(/127\.0\.0\.1:(\d+)/g, (s, p) =>
          `${s}=n${names.get(Number(p)) ?? "?"}`)
      }`
    ).join("\n");
  return {
    skill,
    provider: provider.index,
    via: via.index,
    startedAt,
    endedAt,
    state,
    found,
    dht,
    detail,
  };
}

Deno.test(
  "knarr serve × 30: queries find every live provider while nodes are killed and restarted",
  async () => {
    const seed = Number(Deno.env.get("KNARR_CHURN_SEED") ?? 11);
    const rand = random(seed);
    const pick = <T>(xs: readonly T[]): T =>
      xs[Math.floor(rand() * xs.length)]!;
    const root = Deno.makeTempDirSync({ prefix: "knarr-procs-" });
    const members: Member[] = [];
    const records: QueryRecord[] = [];
    const events: string[] = [];
    let kills = 0;
    let restarts = 0;
    const t0 = performance.now();
    const at = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    try {
      for (let i = 0; i < NODES; i++) {
        const dir = join(root, `n${i}`);
        Deno.mkdirSync(dir);
        // Providers are nodes 1…PROVIDERS; node 0 is the first bootstrap only.
        const skill = i >= 1 && i <= PROVIDERS ? `churn-${i}` : null;
        if (skill) {
          Deno.copyFileSync(ECHO, join(dir, "echo.ts"));
          Deno.writeTextFileSync(
            join(dir, "knarr.toml"),
            `[skills.${skill}]\nhandler = "echo.ts:handle"\n` +
              `description = "Echo of provider ${i}"\ntags = ["churn"]\n`,
          );
        }
        members.push({
          index: i,
          dir,
          skill,
          nodeId: "",
          port: 0,
          child: null,
          upAt: 0,
          downAt: -1,
          busy: 0,
          tail: [],
          crashes: [],
          drained: Promise.resolve(),
        });
      }
      // A chain of small fan-ins: each node joins through up to 3 earlier ones (the first
      // that answers), in batches of 4 starting at once.
      await start(members[0]!, []);
      for (let i = 1; i < NODES; i += 4) {
        await Promise.all(
          members.slice(i, i + 4).map((m) => {
            const earlier = members.slice(Math.max(0, i - 6), i).map((e) =>
              e.port
            );
            return start(m, [pick(earlier), pick(earlier), pick(earlier)]);
          }),
        );
      }
      const startupMs = performance.now() - t0;
      await sleep(1_000);
      const rss = await Promise.all(members.map((m) => rssMb(m.child!.pid)));
      const totalRss = rss.reduce((a, b) => a + b, 0);

      const providers = members.filter((m) => m.skill !== null);
      const others = members.filter((m) => m.skill === null);
      const up = (m: Member) => m.child !== null;
      const settled = (m: Member) =>
        up(m) && performance.now() - m.upAt >= LIVE_AFTER_MS;

      // Before the churn, every provider is found once from node 0 (the network has
      // formed); these queries are not counted.
      for (const p of providers) {
        for (let tries = 0;; tries++) {
          const r = await query(members[0]!, p, members, 0);
          if (r.found) break;
          assert(tries < 10, `the network did not form:\n${r.detail}`);
          await sleep(500);
        }
      }
      const formedMs = performance.now() - t0;

      let churning = true;
      const workers = Array.from({ length: QUERY_WORKERS }, async () => {
        while (churning) {
          const vias = others.filter(settled);
          const provider = pick(providers);
          if (vias.length === 0) {
            await sleep(100);
            continue;
          }
          records.push(
            await query(pick(vias), provider, members, LIVE_AFTER_MS),
          );
        }
      });
      const churn = (async () => {
        try {
          const churnStart = performance.now();
          const restartsPending: Promise<unknown>[] = [];
          const restartErrors: unknown[] = [];
          // Providers 1 and 2 are killed once each, a third of and two thirds into the churn.
          const providerKills = [
            { atMs: CHURN_MS / 3, m: providers[0]! },
            { atMs: (2 * CHURN_MS) / 3, m: providers[1]! },
          ];
          while (performance.now() - churnStart < CHURN_MS - 2 * DOWN_MS) {
            await sleep(KILL_EVERY_MS);
            const elapsed = performance.now() - churnStart;
            const due = providerKills.findIndex((k) => k.atMs <= elapsed);
            const victim = due >= 0
              ? providerKills.splice(due, 1)[0]!.m
              : pick(others.filter((m) => settled(m) && m.busy === 0));
            if (!victim || victim.busy > 0) continue;
            await kill(victim);
            kills++;
            events.push(`${at()}: killed node ${victim.index}`);
            restartsPending.push(
              (async () => {
                await sleep(victim.skill ? 2 * DOWN_MS : DOWN_MS);
                const live = members.filter(settled).map((m) => m.port);
                await start(victim, [pick(live), pick(live), pick(live)]);
                restarts++;
                events.push(
                  `${at()}: restarted node ${victim.index} at :${victim.port}`,
                );
              })().catch((error) => restartErrors.push(error)),
            );
          }
          await Promise.all(restartsPending);
          if (restartErrors.length > 0) throw restartErrors[0];
        } finally {
          churning = false;
        }
      })();
      for (const r of await Promise.allSettled([churn, ...workers])) {
        if (r.status === "rejected") throw r.reason;
      }

      // After the churn, the restarted providers settle and every provider is asked
      // through five random nodes.
      const lastUp = Math.max(...providers.map((p) => p.upAt));
      await sleep(Math.max(0, lastUp + LIVE_AFTER_MS - performance.now()));
      await Promise.all(providers.map(async (p) => {
        for (let i = 0; i < 5; i++) {
          records.push(
            await query(
              pick(members.filter(settled)),
              p,
              members,
              LIVE_AFTER_MS,
            ),
          );
        }
      }));

      const asserted = records.filter((r) => r.state === "live");
      const young = records.filter((r) => r.state === "young");
      const failed = asserted.filter((r) => !r.found);
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      const summary = [
        `${NODES} serve processes (${PROVIDERS} providers) up in ${
          secs(startupMs)
        }, ${Math.round(totalRss)} MB RSS (${Math.round(Math.min(...rss))}–${
          Math.round(Math.max(...rss))
        } MB each)`,
        `network formed at ${secs(formedMs)}`,
        `${kills} kills and ${restarts} restarts`,
        `${records.length} queries`,
        `${asserted.length} for a live provider, ${
          asserted.length - failed.length
        } found it (${
          asserted.filter((r) => r.dht).length
        } by the DHT), wall time p50 ${percentile(asserted, 0.5)} ms, p95 ${
          percentile(asserted, 0.95)
        } ms`,
        `not asserted: ${
          records.filter((r) => r.state === "down").length
        } while the provider was down, ${young.length} within ${
          LIVE_AFTER_MS / 1000
        } s of its restart (${young.filter((r) => r.found).length} found it)`,
        `${secs(performance.now() - t0)} in all, seed ${seed}`,
      ].join("; ");
      // deno-lint-ignore no-console
      console.log(summary);
      // The first failures in full (each query's trace), then the kill schedule.
      assert(
        failed.length === 0,
        [summary, ...failed.slice(0, 5).map((r) => r.detail), ...events]
          .join("\n"),
      );
      assertEquals(members.flatMap((m) => m.crashes), []);
      assert(asserted.length >= 40, summary);
      // Each killed provider was asked for, and found, after its restart.
      for (const p of providers.slice(0, 2)) {
        assert(
          asserted.some((r) => r.provider === p.index && r.startedAt > p.upAt),
          `node ${p.index} was not asked for after its restart: ${summary}`,
        );
      }
    } finally {
      await Promise.all(members.map(kill));
      Deno.removeSync(root, { recursive: true });
    }
  },
);
