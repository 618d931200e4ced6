/**
 * Relay soak: `--agents` connected agents each send `--rate` signed messages a second, with
 * unique ids, to random other agents for `--seconds`; `--slow` of them (a fraction) never read
 * after registering. Starts `knarr relay` as a child process with its default limits (queue
 * bound, write deadline, rate limit, per-IP cap), holds every agent's connection in this
 * process (from `--addresses` distinct 127.0.x.y source addresses), and reports what was sent,
 * delivered and lost, the relay's replies, when slow consumers were cut off, whether any other
 * agent was disconnected, send-to-receive latency, and the relay's memory and CPU over time.
 *
 *   deno run -A bench/relay_soak.ts [--agents 5000] [--rate 10] [--seconds 60] [--slow 0.01]
 *     [--runs 1] [--body 100] [--addresses 50] [--grace 10] [--tcp-buffers BYTES]
 *     [--cpu-prof DIR] [--every 5] [--relay-event-interval N]
 *
 * Every message is signed before the timed window (the load generator shares the machine's
 * cores with the relay), so the window costs the generator one write and one read per message.
 * `--tcp-buffers B` (root) runs everything in a network namespace of its own whose TCP buffers
 * are at most B bytes: a consumer that stops reading then fills them within seconds (on this
 * machine's defaults loopback absorbs about 4 MB per connection, half an hour of this traffic).
 * The generator re-runs itself with `DENO_TOKIO_EVENT_INTERVAL=1` (see `_soak_process.ts`); the
 * relay keeps the runtime's default unless `--relay-event-interval N`. The timeline has a row
 * every `--every` seconds. Prints figures; never passes or fails on time.
 */
import { parseArgs } from "node:util";
import { startBenchRelay } from "./_knarr_child.ts";
import { buildPlan } from "./_soak_packets.ts";
import type { SoakPlan } from "./_soak_packets.ts";
import { DELIVERED, SENT, SoakAgents } from "./_soak_agents.ts";
import { summarize } from "./_soak_report.ts";
import {
  cpuSeconds,
  EVENT_INTERVAL_ENV,
  memoryMiB,
  rerunAsGenerator,
  SOAK_CHILD_ENV,
} from "./_soak_process.ts";
import type { RunFigures, Sample } from "./_soak_report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    agents: { type: "string", default: "5000" },
    rate: { type: "string", default: "10" },
    seconds: { type: "string", default: "60" },
    slow: { type: "string", default: "0.01" },
    runs: { type: "string", default: "1" },
    body: { type: "string", default: "100" },
    addresses: { type: "string", default: "50" },
    grace: { type: "string", default: "10" },
    every: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
    "tcp-buffers": { type: "string" },
    "relay-event-interval": { type: "string" },
    "cpu-prof": { type: "string" },
  },
});
const TICK_MS = 5;
const SAMPLE_MS = 1_000;
const ENCODER = new TextEncoder();

function out(line: string): void {
  Deno.stdout.writeSync(ENCODER.encode(line + "\n"));
}

function flag(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot run the soak: --${name} ${values[name]} is not a number ≥ 0`,
    );
  }
  return value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends every message on schedule; resolves when the last one is due and written. */
function sendAll(
  agents: SoakAgents,
  start: number,
  lags: Float32Array,
): Promise<void> {
  const { total, agents: n, rate } = agents.plan;
  const perMs = n * rate / 1000;
  // At most 50 ms of messages a tick, so that reads go on when the generator falls behind.
  const perTick = Math.max(1, Math.ceil(perMs * 50));
  let next = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(
        total,
        Math.floor((now - start) * perMs) + 1,
        next + perTick,
      );
      for (; next < due; next++) {
        agents.send(next);
        lags[next] = now - (start + next / perMs);
      }
      if (next === total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
}

async function soak(plan: SoakPlan, runIndex: number): Promise<RunFigures> {
  const dir = await Deno.makeTempDir();
  const profile = values["cpu-prof"];
  const relay = await startBenchRelay(dir, {
    maxConnections: Math.max(10_000, plan.agents + 10),
    defaultLimits: true,
    denoFlags: profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [],
  });
  const pid = relay.child.pid;
  try {
    const rssIdle = memoryMiB(pid).rss;
    const slowFraction = flag("slow");
    const connectStart = performance.now();
    const agents = await SoakAgents.connect(plan, {
      host: "127.0.0.1",
      port: relay.port,
      addresses: flag("addresses"),
      // Spread evenly: agent i is slow when i × fraction crosses an integer.
      slow: (i) =>
        Math.floor((i + 1) * slowFraction) > Math.floor(i * slowFraction),
    });
    const connectSeconds = (performance.now() - connectStart) / 1000;
    await sleep(1_000);
    const rssConnected = memoryMiB(pid).rss;
    const samples: Sample[] = [];
    let last = {
      t: performance.now(),
      relayCpu: cpuSeconds(pid),
      ownCpu: cpuSeconds("self"),
    };
    let lastSent = 0;
    let lastDelivered = 0;
    let metrics: Record<string, number> = {};
    const start = performance.now();
    const sampler = setInterval(() => {
      const now = performance.now();
      const relayCpu = cpuSeconds(pid);
      const ownCpu = cpuSeconds("self");
      const dt = (now - last.t) / 1000;
      const sent = agents.sent - lastSent;
      lastSent = agents.sent;
      samples.push({
        t: (now - start) / 1000,
        sentPerSecond: sent / dt,
        deliveredPerSecond: (agents.delivered - lastDelivered) / dt,
        relayCpu: (relayCpu - last.relayCpu) / dt,
        generatorCpu: (ownCpu - last.ownCpu) / dt,
        relayRssMiB: memoryMiB(pid).rss,
        agentsOpen: agents.open,
        closedSlow: (metrics.closed_slow ?? 0) +
          (metrics.closed_write_timeout ?? 0),
        generatorQueuedKiB: agents.queuedBytes() / 1024,
        generatorLagMs: Math.max(0, now - last.t - SAMPLE_MS),
        relayFramesIn: metrics.frames_in ?? 0,
        relayForwarded: metrics.forwarded ?? 0,
      });
      lastDelivered = agents.delivered;
      last = { t: now, relayCpu, ownCpu };
      void agents.metrics().then((m) => metrics = m);
    }, SAMPLE_MS);
    const lags = new Float32Array(plan.total);
    await sendAll(agents, start, lags);
    const sendSeconds = (performance.now() - start) / 1000;
    // Grace: until nothing new arrives for 2 s, at most --grace seconds.
    const graceEnd = performance.now() + flag("grace") * 1000;
    let seen = -1;
    while (performance.now() < graceEnd && seen !== agents.delivered) {
      seen = agents.delivered;
      await sleep(2_000);
    }
    clearInterval(sampler);
    const finalMetrics = await Promise.race([
      agents.metrics(),
      sleep(5_000).then(() => metrics),
    ]);
    const figures = tally(agents, {
      run: runIndex,
      connectSeconds,
      sendSeconds,
      start,
      lags,
      rssIdle,
      rssConnected,
      rssEnd: memoryMiB(pid).rss,
      rssPeak: memoryMiB(pid).peak,
      samples,
      metrics: finalMetrics,
    });
    await agents.close();
    return figures;
  } finally {
    relay.child.kill("SIGTERM");
    await relay.child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

type TallyInput =
  & Pick<
    RunFigures,
    | "run"
    | "connectSeconds"
    | "sendSeconds"
    | "rssIdle"
    | "rssConnected"
    | "rssEnd"
    | "rssPeak"
    | "samples"
    | "metrics"
  >
  & { start: number; lags: Float32Array };

function tally(agents: SoakAgents, input: TallyInput): RunFigures {
  const { plan, slow, closedAt, state } = agents;
  const n = plan.agents;
  let sent = 0;
  let toLive = 0;
  let lostToLive = 0;
  let lostOffline = 0;
  let toSlow = 0;
  let fromCutOff = 0;
  let fromCutOffLost = 0;
  for (let k = 0; k < plan.total; k++) {
    const s = state[k]!;
    if (!(s & SENT)) continue;
    sent++;
    const from = k % n;
    const to = plan.dst[k]!;
    if (slow[to]) {
      toSlow++;
    } else if (closedAt[from] !== 0) {
      fromCutOff++;
      if (!(s & DELIVERED)) fromCutOffLost++;
    } else if (closedAt[to] === 0) {
      toLive++;
      if (!(s & DELIVERED)) {
        lostToLive++;
        if (s & ~(SENT | DELIVERED)) lostOffline++;
      }
    }
  }
  const cutOff: number[] = [];
  const otherClosed: string[] = [];
  for (let i = 0; i < n; i++) {
    if (closedAt[i] === 0) continue;
    if (slow[i]) cutOff.push((closedAt[i]! - input.start) / 1000);
    else otherClosed.push(`agent ${i}: ${agents.closeReason[i]}`);
  }
  let slowCount = 0;
  for (let i = 0; i < n; i++) slowCount += slow[i]!;
  const latencies = agents.latencies.slice(0, agents.delivered).sort();
  const lags = input.lags.slice(0, sent).sort();
  const at = (sorted: Float32Array | Float64Array, q: number) =>
    sorted.length === 0
      ? NaN
      : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    ...input,
    agents: n,
    slow: slowCount,
    rate: plan.rate,
    seconds: plan.seconds,
    planned: plan.total,
    sent,
    unsentClosed: agents.unsentClosed,
    delivered: agents.delivered,
    toLive,
    lostToLive,
    lostWithReply: lostOffline,
    toSlow,
    fromCutOff,
    fromCutOffLost,
    offlineReplies: agents.offlineReplies,
    deliveryFailedReplies: agents.deliveryFailedReplies,
    duplicates: agents.duplicates,
    misrouted: agents.misrouted,
    heartbeats: agents.heartbeats,
    cutOff: cutOff.sort((a, b) => a - b),
    otherClosed,
    p50: at(latencies, 0.5),
    p99: at(latencies, 0.99),
    max: at(latencies, 1),
    lagP99: at(lags, 0.99),
    lagMax: at(lags, 1),
  };
}

const child = Deno.env.get(SOAK_CHILD_ENV);
if (child === undefined) {
  Deno.exitCode = await rerunAsGenerator(
    new URL(import.meta.url).pathname,
    Deno.args,
    values["tcp-buffers"] === undefined ? null : flag("tcp-buffers"),
  );
} else {
  // The relay children run with the runtime's default unless asked otherwise.
  Deno.env.delete(EVENT_INTERVAL_ENV);
  const relayInterval = values["relay-event-interval"];
  if (relayInterval !== undefined) {
    Deno.env.set(EVENT_INTERVAL_ENV, String(flag("relay-event-interval")));
  }
  const planStart = performance.now();
  const plan = buildPlan({
    agents: flag("agents"),
    rate: flag("rate"),
    seconds: flag("seconds"),
    bodyBytes: flag("body"),
    seed: flag("seed"),
  });
  out(
    `relay soak: ${plan.agents} agents × ${plan.rate} msg/s × ${plan.seconds} s = ${plan.total} messages of ${plan.frameBytes} bytes, ${values.slow} slow consumers, from ${values.addresses} source addresses; ${navigator.hardwareConcurrency} CPUs; Deno ${Deno.version.deno}`,
  );
  out(
    `  signed before the window in ${
      ((performance.now() - planStart) / 1000).toFixed(1)
    } s; TCP buffers: ${
      child === "default"
        ? "system defaults"
        : `at most ${child} bytes (own namespace)`
    }; relay ${EVENT_INTERVAL_ENV}: ${
      relayInterval ?? "default (61)"
    }, generator's: 1`,
  );
  const runs: RunFigures[] = [];
  for (let i = 1; i <= flag("runs"); i++) runs.push(await soak(plan, i));
  summarize(runs, out, flag("every"));
}
