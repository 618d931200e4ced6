/** The relay soak's figures: one run's summary and timeline, and the median (range) of runs. */

/** One second of a run. */
export interface Sample {
  /** Seconds since the window opened. */
  t: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  /** Relay CPU, cores (1 = one core busy). */
  relayCpu: number;
  /** Load generator CPU, cores. */
  generatorCpu: number;
  relayRssMiB: number;
  /** Agent connections open. */
  agentsOpen: number;
  /** Connections the relay closed as too slow (queue bound or write deadline), so far. */
  closedSlow: number;
  /** Bytes the generator's sockets still held (not yet handed to the kernel), KiB. */
  generatorQueuedKiB: number;
  /** How late the generator's sampling timer fired, ms (its event loop's delay). */
  generatorLagMs: number;
  /** The relay's `frames_in` and `forwarded` counters, as of its latest metrics reply. */
  relayFramesIn: number;
  relayForwarded: number;
}

/** What one run measured. */
export interface RunFigures {
  run: number;
  agents: number;
  slow: number;
  rate: number;
  seconds: number;
  connectSeconds: number;
  sendSeconds: number;
  /** Messages in the plan. */
  planned: number;
  /** Messages written. */
  sent: number;
  /** Not written: the sender's connection had closed (a cut-off slow consumer). */
  unsentClosed: number;
  delivered: number;
  /** Sent by open agents to reading agents that stayed connected. */
  toLive: number;
  /** Of those, never received (the goal: 0). */
  lostToLive: number;
  /** Of the lost, answered with an error reply. */
  lostWithReply: number;
  /** Sent to slow consumers. */
  toSlow: number;
  /** Sent by slow consumers that were later cut off (to reading agents). */
  fromCutOff: number;
  /** Of those, never received (written after the relay had closed them). */
  fromCutOffLost: number;
  offlineReplies: number;
  deliveryFailedReplies: number;
  duplicates: number;
  misrouted: number;
  heartbeats: number;
  /** Seconds into the window at which slow consumers were cut off, sorted. */
  cutOff: number[];
  /** Reading agents whose connection closed, with the reason (the goal: none). */
  otherClosed: string[];
  /** Send-to-receive latency, ms. */
  p50: number;
  p99: number;
  max: number;
  /** How late the generator wrote messages, ms (p99, max). */
  lagP99: number;
  lagMax: number;
  rssIdle: number;
  rssConnected: number;
  rssEnd: number;
  rssPeak: number;
  samples: Sample[];
  /** The relay's `discover:metrics` at the end. */
  metrics: Record<string, number>;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => n >= 10 ? n.toFixed(0) : n.toFixed(1);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function cutOffText(times: number[]): string {
  if (times.length === 0) return "none";
  return `${times.length}, at ${times[0]!.toFixed(1)}–${
    times.at(-1)!.toFixed(1)
  } s (median ${median(times).toFixed(1)} s)`;
}

/** Average relay CPU over the window, in cores. */
export function relayCpu(figures: RunFigures): number {
  return mean(
    figures.samples.filter((s) => s.t <= figures.seconds + 0.5).map((s) =>
      s.relayCpu
    ),
  );
}

function generatorCpu(figures: RunFigures): number {
  return mean(
    figures.samples.filter((s) => s.t <= figures.seconds + 0.5).map((s) =>
      s.generatorCpu
    ),
  );
}

function printRun(
  f: RunFigures,
  out: (line: string) => void,
  every: number,
): void {
  const m = f.metrics;
  out(
    `run ${f.run}: ${int(f.agents)} agents (${f.slow} slow) registered in ${
      f.connectSeconds.toFixed(1)
    } s`,
  );
  out(
    `  sent ${int(f.sent)} of ${int(f.planned)} in ${
      f.sendSeconds.toFixed(1)
    } s (${int(f.sent / f.sendSeconds)}/s; ${
      int(f.unsentClosed)
    } not sent: sender cut off); generator lag p99 ${ms(f.lagP99)} ms, max ${
      ms(f.lagMax)
    } ms`,
  );
  out(
    `  to reading agents: ${int(f.toLive)}, delivered ${
      int(f.toLive - f.lostToLive)
    }, LOST ${int(f.lostToLive)} (${
      int(f.lostWithReply)
    } with an error reply); duplicates ${f.duplicates}, misrouted ${f.misrouted}`,
  );
  out(
    `  to slow consumers: ${
      int(f.toSlow)
    }; from slow consumers later cut off: ${int(f.fromCutOff)}, ${
      int(f.fromCutOffLost)
    } of them unread by the relay`,
  );
  out(
    `  relay replies: error:offline ${
      int(f.offlineReplies)
    }, error:delivery_failed ${
      int(f.deliveryFailedReplies)
    }; heartbeats received ${int(f.heartbeats)}`,
  );
  out(
    `  slow consumers cut off: ${
      cutOffText(f.cutOff)
    }; relay counted closed_slow ${
      m.closed_slow ?? "?"
    }, closed_write_timeout ${m.closed_write_timeout ?? "?"}`,
  );
  out(
    `  reading agents disconnected: ${f.otherClosed.length}${
      f.otherClosed.length ? ` (${f.otherClosed.slice(0, 3).join("; ")})` : ""
    }`,
  );
  out(
    `  send→receive latency: p50 ${ms(f.p50)} ms, p99 ${ms(f.p99)} ms, max ${
      ms(f.max)
    } ms`,
  );
  out(
    `  relay RSS: ${f.rssIdle.toFixed(0)} MiB idle, ${
      f.rssConnected.toFixed(0)
    } MiB connected, ${f.rssEnd.toFixed(0)} MiB at the end, peak ${
      f.rssPeak.toFixed(0)
    } MiB; CPU (cores) relay ${relayCpu(f).toFixed(2)}, generator ${
      generatorCpu(f).toFixed(2)
    }`,
  );
  out(
    "     t  sent/s  relay in/s  fwd/s  recv/s  relay CPU  gen CPU  gen held KiB  gen lag ms  relay RSS  open  cut off",
  );
  let previous: Sample | null = null;
  for (const s of f.samples) {
    const last = s === f.samples.at(-1);
    if (Math.round(s.t) % every !== 0 && !last) continue;
    const span = previous === null ? s.t : s.t - previous.t;
    const rate = (now: number, before: number) => int((now - before) / span);
    out(
      `  ${s.t.toFixed(0).padStart(4)}  ${int(s.sentPerSecond).padStart(6)}  ${
        rate(s.relayFramesIn, previous?.relayFramesIn ?? 0).padStart(10)
      }  ${
        rate(s.relayForwarded, previous?.relayForwarded ?? 0).padStart(5)
      }  ${int(s.deliveredPerSecond).padStart(6)}  ${
        s.relayCpu.toFixed(2).padStart(9)
      }  ${s.generatorCpu.toFixed(2).padStart(7)}  ${
        int(s.generatorQueuedKiB).padStart(12)
      }  ${int(s.generatorLagMs).padStart(10)}  ${
        s.relayRssMiB.toFixed(0).padStart(5)
      } MiB  ${String(s.agentsOpen).padStart(4)}  ${
        String(s.closedSlow).padStart(7)
      }`,
    );
    previous = s;
  }
}

function spread(
  label: string,
  values: number[],
  format: (n: number) => string,
): string {
  return `  ${label}: ${format(median(values))} (${
    format(Math.min(...values))
  }–${format(Math.max(...values))})`;
}

/** Prints every run, then the median (range) over the runs. */
export function summarize(
  runs: RunFigures[],
  out: (line: string) => void,
  every = 5,
): void {
  for (const run of runs) printRun(run, out, every);
  if (runs.length < 2) return;
  out(`over ${runs.length} runs, median (range):`);
  out(spread("sent/s", runs.map((r) => r.sent / r.sendSeconds), int));
  out(spread("lost to reading agents", runs.map((r) => r.lostToLive), int));
  out(
    spread(
      "reading agents disconnected",
      runs.map((r) => r.otherClosed.length),
      int,
    ),
  );
  out(spread("slow consumers cut off", runs.map((r) => r.cutOff.length), int));
  out(spread("latency p50 ms", runs.map((r) => r.p50), ms));
  out(spread("latency p99 ms", runs.map((r) => r.p99), ms));
  out(spread("relay CPU (cores)", runs.map(relayCpu), (n) => n.toFixed(2)));
  out(
    spread(
      "relay peak RSS MiB",
      runs.map((r) => r.rssPeak),
      (n) => n.toFixed(0),
    ),
  );
}
