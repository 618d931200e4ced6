/**
 * Hostile peers under load: runs an honest workload (8 requests in flight from 127.0.0.1)
 * against `knarr serve` (echo tasks), `knarr relay` (request-reply between two agents) and
 * the sidecar (signed downloads), and measures its p99 before and during each attack, which
 * comes from 127.0.x.y source addresses of its own in a separate process. Loopback only;
 * every attack is bounded in time and rate.
 *
 *   deno run -A bench/hostile_peers.ts [--attacks all|a,b,…] [--seconds 6] [--before 2]
 *       [--json out.json]
 *   deno run -A bench/hostile_peers.ts --summarize run1.json run2.json run3.json
 *
 * Prints a table (attack, packets sent, rejected, honest p99 before/during, honest failures,
 * RSS before/during, log lines) and a note per attack. Never passes or fails on figures.
 */
import { parseArgs } from "node:util";
import { Identity } from "../src/crypto/mod.ts";
import { SidecarClient } from "../src/sidecar/mod.ts";
import { ATTACKS } from "./_hostile_attack.ts";
import {
  honestDownloads,
  honestRelay,
  honestTasks,
} from "./_hostile_honest.ts";
import type { Honest } from "./_hostile_honest.ts";
import { type Row, summarize, table } from "./_hostile_table.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    attacks: { type: "string", default: "all" },
    seconds: { type: "string", default: "6" },
    before: { type: "string", default: "2" },
    json: { type: "string" },
    summarize: { type: "boolean", default: false },
    "no-pin": { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

if (values.summarize) {
  const paths = Deno.args.filter((a) => !a.startsWith("--"));
  const runs = await Promise.all(
    paths.map(async (p) => JSON.parse(await Deno.readTextFile(p)) as Row[]),
  );
  out(summarize(runs));
  Deno.exit(0);
}

/** Attack name → target, rate (messages per second unless noted), and its own duration. */
const PLAN: Record<
  string,
  { target: "node" | "relay" | "sidecar"; rate: number; seconds?: number }
> = {
  "forged-signature": { target: "node", rate: 1_000 },
  "replay": { target: "node", rate: 1_000 },
  "id-mismatch": { target: "node", rate: 1_000 },
  "spoofed-gossip": { target: "node", rate: 1_000 },
  "oversized-frame": { target: "node", rate: 1_000 },
  "truncated-frame": { target: "node", rate: 1_000 },
  "slowloris": { target: "node", rate: 0 },
  "connection-flood": { target: "node", rate: 0 },
  "join-flood": { target: "node", rate: 2_000 },
  "query-flood": { target: "node", rate: 2_000 },
  "join-flood-many": { target: "node", rate: 2_000 },
  "announce-flood": { target: "node", rate: 2_000 },
  // 64 KiB to 1 MiB frames shaped to cost the most to decode and verify (≈ 20 MB/s).
  "heavy-messages": { target: "node", rate: 50, seconds: 10 },
  "relay-unsigned-flood": { target: "relay", rate: 14_000 },
  "relay-identity-squat": { target: "relay", rate: 50 },
  // 12 MB/s for 20 s at 16 consumers that never read: past each one's queue cap (8 MiB).
  "relay-slow-consumer": { target: "relay", rate: 200, seconds: 20 },
  "sidecar-slow-upload": { target: "sidecar", rate: 0 },
  "sidecar-quota": { target: "sidecar", rate: 50 },
  // As fast as TLS allows, past the (benchmark-sized) replay memory.
  "sidecar-signed-flood": { target: "sidecar", rate: 0, seconds: 12 },
};
const chosen = values.attacks === "all"
  ? Object.keys(PLAN)
  : values.attacks!.split(",").map((s) => s.trim());
for (const name of chosen) {
  if (!PLAN[name] || !ATTACKS[name]) {
    throw new Error(
      `Cannot run attack "${name}": known are ${Object.keys(PLAN).join(", ")}`,
    );
  }
}
const SECONDS = Number(values.seconds);
const BEFORE_MS = Number(values.before) * 1000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;
const ATTACKER = new URL("./_hostile_attack.ts", import.meta.url).pathname;

/**
 * The attackers run on one core, the target and the honest consumer on the other (`taskset`,
 * unless `--no-pin` or absent): on a 2-core machine the figures then show what an attack costs
 * the target, not what the attacking process's own CPU takes from it (real attackers bring
 * their own machines).
 */
const PIN = !values["no-pin"] &&
  await new Deno.Command("taskset", {
    args: ["-V"],
    stdout: "null",
    stderr: "null",
  })
    .output().then((o) => o.success, () => false);
const TARGET_CORE = 0;
const ATTACKER_CORE = 1;

/** `taskset` arguments that run the deno binary on `core` (none when not pinning). */
function pinned(core: number): string[] {
  return PIN ? ["-c", String(core), Deno.execPath()] : [];
}

if (PIN) {
  // This process (the honest consumer), all its threads, shares the target's core.
  await new Deno.Command("taskset", {
    args: ["-a", "-cp", String(TARGET_CORE), String(Deno.pid)],
    stdout: "null",
  }).output();
}

/** A child process whose stderr lines are counted (log lines during an attack). */
interface Target {
  pid: number;
  text: string;
  logLines: number;
  exited: boolean;
  stop(): Promise<void>;
}

async function spawnTarget(
  args: string[],
  ready: RegExp,
  cwd: string,
): Promise<Target> {
  const child = new Deno.Command(PIN ? "taskset" : Deno.execPath(), {
    args: [...pinned(TARGET_CORE), "run", "-A", MAIN, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const target: Target = {
    pid: child.pid,
    text: "",
    logLines: 0,
    exited: false,
    async stop() {
      if (!target.exited) child.kill("SIGTERM");
      await child.status;
      await Promise.all([stdout, stderr]);
    },
  };
  child.status.then(() => target.exited = true);
  let isReady!: () => void;
  const readyNow = new Promise<void>((r) => isReady = r);
  const decoder = new TextDecoder();
  const stdout = child.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        target.text += decoder.decode(chunk);
        if (ready.test(target.text)) isReady();
      },
    }),
  ).catch(() => {});
  let tail = "";
  const stderr = child.stderr.pipeTo(
    new WritableStream({
      write(chunk) {
        const text = tail + new TextDecoder().decode(chunk);
        const lines = text.split("\n");
        tail = lines.pop()!;
        target.logLines += lines.length;
        // What the targets log, by kind (times, addresses and numbers left out).
        for (const line of lines) {
          const kind = line.replace(/^\S+ /, "")
            .replace(/[0-9a-f]{16,}|\d+(\.\d+)*(:\d+)?/g, "#").slice(0, 120);
          if (logKinds.size < 1_000 || logKinds.has(kind)) {
            logKinds.set(kind, (logKinds.get(kind) ?? 0) + 1);
          }
        }
      },
    }),
  ).catch(() => {});
  await Promise.race([
    readyNow,
    child.status.then(() => {
      throw new Error(`Cannot start "knarr ${args[0]}": it exited early`);
    }),
  ]);
  return target;
}
const logKinds = new Map<string, number>();

function rssMiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  } catch {
    return NaN;
  }
}

const dir = await Deno.makeTempDir({ prefix: "knarr-hostile-" });
await Deno.copyFile(ECHO, `${dir}/echo.ts`);
await Deno.writeTextFile(
  `${dir}/knarr.toml`,
  [
    "[node]",
    'host = "127.0.0.1"',
    "port = 0",
    `storage = "${dir}/node.db"`,
    "[network]",
    // The attackers dial from loopback addresses of their own: cap them as remote ones.
    "exempt_loopback = false",
    "[sidecar]",
    `asset_dir = "${dir}/assets"`,
    // Small, so that the quota attack reaches it within seconds.
    "max_total_size = 16777216",
    // Small (the default is 100,000), so that the signed flood fills it within seconds.
    "replay_memory = 4000",
    "[skills.echo]",
    'handler = "echo.ts:handle"',
    'description = "Echoes input text back"',
    'tags = ["bench"]',
    "price = 0",
    'input_schema = { text = "string" }',
    "[relay]",
    'host = "127.0.0.1"',
    "port = 0",
  ].join("\n") + "\n",
);

const rows: Row[] = [];
const targets: Target[] = [];
try {
  const needs = new Set(chosen.map((a) => PLAN[a]!.target));
  const serve = needs.has("node") || needs.has("sidecar")
    ? await spawnTarget(
      ["serve", "--config", "knarr.toml", "--log-level", "warn"],
      /Loaded /,
      dir,
    )
    : null;
  if (serve) targets.push(serve);
  const relay = needs.has("relay")
    ? await spawnTarget(
      ["relay", "--config", "knarr.toml", "--log-level", "warn"],
      /Relay key:/,
      dir,
    )
    : null;
  if (relay) targets.push(relay);
  const nodePort = serve
    ? Number(/Listening: [^\n]*:(\d+)\n/.exec(serve.text)![1])
    : 0;
  const nodeId = serve ? /Node ID: ([0-9a-f]{64})/.exec(serve.text)![1]! : "";
  const sidecarPort = serve
    ? Number(/Sidecar: https:\/\/[^\s]+:(\d+)/.exec(serve.text)?.[1] ?? 0)
    : 0;
  const relayPort = relay
    ? Number(/Relay listening: [^\n]*:(\d+)/.exec(relay.text)![1])
    : 0;

  for (const target of ["node", "relay", "sidecar"] as const) {
    const attacks = chosen.filter((a) => PLAN[a]!.target === target);
    if (attacks.length === 0) continue;
    const proc = target === "relay" ? relay! : serve!;
    const port = target === "node"
      ? nodePort
      : target === "relay"
      ? relayPort
      : sidecarPort;
    let honest: Honest;
    if (target === "node") honest = await honestTasks(port);
    else if (target === "relay") honest = await honestRelay(port);
    else {
      const sidecar = { nodeId, host: "127.0.0.1", port };
      const client = new SidecarClient({ identity: await Identity.generate() });
      const hashes: string[] = [];
      for (let i = 0; i < 16; i++) {
        const bytes = new Uint8Array(16 * 1024).fill(i);
        hashes.push((await client.upload(sidecar, bytes)).hash);
      }
      honest = honestDownloads(sidecar, hashes, dir);
    }
    // Warm up: Workers, TLS, JIT.
    await new Promise((r) => setTimeout(r, 2_000));
    try {
      for (const name of attacks) {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, BEFORE_MS));
        const rssBefore = rssMiB(proc.pid);
        const logBefore = proc.logLines;
        const t1 = performance.now();
        const context = {
          host: "127.0.0.1",
          port,
          nodeId,
          seconds: PLAN[name]!.seconds ?? SECONDS,
          rate: PLAN[name]!.rate,
          db: `${dir}/node.db`,
        };
        const attacker = new Deno.Command(PIN ? "taskset" : Deno.execPath(), {
          args: [
            ...pinned(ATTACKER_CORE),
            "run",
            "-A",
            ATTACKER,
            name,
            JSON.stringify(context),
          ],
          stdout: "piped",
          stderr: "inherit",
          stdin: "null",
        }).spawn();
        let rssMax = rssBefore;
        const sampler = setInterval(() => {
          rssMax = Math.max(rssMax, rssMiB(proc.pid) || 0);
        }, 250);
        const result = await attacker.output();
        clearInterval(sampler);
        const t2 = performance.now();
        const counts = result.success
          ? JSON.parse(
            new TextDecoder().decode(result.stdout).trim().split("\n").pop()!,
          )
          : { sent: 0, rejected: 0, note: "the attacker failed" };
        const before = honest.window(t0, t1);
        const during = honest.window(t1, t2);
        rows.push({
          attack: name,
          target,
          sent: counts.sent,
          rejected: counts.rejected,
          p99Before: before.p99Ms,
          p99During: during.p99Ms,
          okDuring: during.ok,
          failedDuring: during.errors,
          freshDuring: target === "node"
            ? `${during.freshOk}/${during.freshTried}`
            : "",
          rssBefore,
          rssDuring: rssMax,
          logLines: proc.logLines - logBefore,
          alive: !proc.exited,
          note: counts.note,
        });
        out(table(rows.slice(-1), { header: rows.length === 1 }));
        if (proc.exited) {
          throw new Error(`The ${target} process died during "${name}"`);
        }
      }
    } finally {
      await honest.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      out(
        `  (${target} process RSS 2 s after its last attack, honest load stopped: ${
          rssMiB(proc.pid).toFixed(0)
        } MiB)`,
      );
      const reasons = [...honest.reasons()].map(([r, n]) => `${n}× ${r}`).join(
        ", ",
      );
      if (reasons) {
        out(`  (${target} honest failures over the whole run: ${reasons})`);
      }
    }
  }
} finally {
  for (const target of targets) await target.stop();
  await Deno.remove(dir, { recursive: true });
}
out("");
out(table(rows, { header: true }));
out("");
for (const row of rows) out(`- ${row.attack}: ${row.note}`);
const kinds = [...logKinds].sort((a, b) => b[1] - a[1]);
out(`\nwhat the targets logged (${kinds.length} kinds, most frequent first):`);
for (const [kind, n] of kinds.slice(0, 15)) out(`  ${n}× ${kind}`);
if (values.json) {
  await Deno.writeTextFile(values.json, JSON.stringify(rows, null, 1));
}
