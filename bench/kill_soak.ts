/**
 * Kill -9 soak of a provider's ledger (issue 12): a `knarr serve` child with a priced echo
 * skill, an in-process consumer node with its own database sending tasks with `--conc` in
 * flight, and the provider killed with SIGKILL at `--kills` random moments and restarted
 * on the same database and port, until `--tasks` tasks have been acknowledged. Then both
 * sides' SQLite files are compared: every task the consumer acknowledged is charged exactly
 * once on the provider, no task id is charged twice, and the provider's charges that the
 * consumer never acknowledged are listed (bounded by the tasks in flight at the kills).
 *
 *   deno run -A bench/kill_soak.ts [--tasks 10000] [--kills 50] [--price 1] [--conc 8]
 *     [--retry same|new] [--seed N]
 *
 * `--retry same` (default): an attempt that ends without an answer is asked again with the
 * same task id (`taskId` option), as a careful consumer does; `new`: with a new task id, as
 * `knarr request` does. Prints a table; exits 1 when an acknowledged task was lost or a
 * task id was charged twice (never on time).
 */
import { parseArgs } from "node:util";
import { KnarrNode } from "../src/node/mod.ts";
import { Database } from "../src/store/mod.ts";
import type { QueryResult } from "../src/discovery/mod.ts";
import { spawnKnarr } from "./_knarr_child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    tasks: { type: "string", default: "10000" },
    kills: { type: "string", default: "50" },
    price: { type: "string", default: "1" },
    conc: { type: "string", default: "8" },
    retry: { type: "string", default: "same" },
    seed: { type: "string" },
  },
});
const TASKS = Number(values.tasks);
const KILLS = Number(values.kills);
const PRICE = Number(values.price);
const CONC = Number(values.conc);
const RETRY = values.retry;
if (RETRY !== "same" && RETRY !== "new") {
  throw new TypeError(`--retry must be "same" or "new", not "${RETRY}"`);
}
const SEED = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
const INITIAL = 1e9;
const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;

const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

/** mulberry32: a small seeded generator, so a run can be repeated. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const dir = await Deno.makeTempDir({ prefix: "knarr-kill-soak-" });
const port = freePort();
const providerDb = `${dir}/provider.db`;
await Deno.copyFile(ECHO, `${dir}/echo.ts`);
await Deno.writeTextFile(
  `${dir}/knarr.toml`,
  [
    "[node]",
    'host = "127.0.0.1"',
    `port = ${port}`,
    "sidecar_port = 0",
    `storage = "${providerDb}"`,
    "[policy]",
    `initial_credit = ${INITIAL}`,
    `min_balance = ${-INITIAL}`,
    "[skills.echo]",
    'handler = "echo.ts:handle"',
    'description = "Echoes input text back"',
    'tags = ["bench"]',
    `price = ${PRICE}`,
    'input_schema = { text = "string" }',
  ].join("\n") + "\n",
);

async function startProvider(): Promise<Deno.ChildProcess> {
  const { child } = await spawnKnarr(
    ["serve", "--config", `${dir}/knarr.toml`, "--log-level", "error"],
    /Loaded \d+ skills from config/,
  );
  return child;
}

const t0 = performance.now();
let provider = await startProvider();
const consumer = await KnarrNode.create({
  storage: `${dir}/consumer.db`,
  host: "127.0.0.1",
  policy: { initialCredit: 0 },
});
await consumer.start({ maintenance: false });
await consumer.join([{ host: "127.0.0.1", port }]);
const found = await consumer.query({ name: "echo" });
const target: QueryResult | undefined = found.find((r) => r.port === port);
if (!target) throw new Error("Cannot find the provider's echo skill");

// Kill points: acknowledged counts spread at random over the run.
const killAt = Array.from(
  { length: KILLS },
  () => Math.floor(TASKS * (0.02 + 0.96 * random())),
).sort((a, b) => a - b);

interface Acked {
  taskId: string;
  attempts: number;
  /** When the answered attempt was sent (unix seconds). */
  sentAt: number;
}
const acked: Acked[] = [];
const unanswered = new Map<string, string>(); // task id → error code of an attempt
let next = 0;
let inFlight = 0;
let mismatches = 0;
let failedAttempts = 0;
const inFlightAtKills: number[] = [];
const restartMs: number[] = [];

async function worker(): Promise<void> {
  while (next < TASKS) {
    const index = next++;
    const text = `task ${index}`;
    const taskId = RETRY === "same" ? crypto.randomUUID() : undefined;
    for (let attempts = 1;; attempts++) {
      const sentAt = Date.now() / 1000;
      inFlight++;
      const r = await consumer.consumer.request("echo", { text }, [target!], {
        timeoutMs: 10_000,
        ...(taskId ? { taskId } : {}),
      });
      inFlight--;
      if (r.status === "completed") {
        if (r.output_data.text !== text) mismatches++;
        acked.push({ taskId: r.task_id, attempts, sentAt });
        break;
      }
      failedAttempts++;
      unanswered.set(r.task_id, String(r.error.code));
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

async function killer(): Promise<void> {
  for (const at of killAt) {
    while (acked.length < at) await new Promise((r) => setTimeout(r, 1));
    // A random moment within the next few milliseconds of work.
    await new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
    inFlightAtKills.push(inFlight);
    provider.kill("SIGKILL");
    await provider.status;
    const started = performance.now();
    provider = await startProvider();
    restartMs.push(performance.now() - started);
  }
}

await Promise.all([killer(), ...Array.from({ length: CONC }, worker)]);
const elapsedS = (performance.now() - t0) / 1000;
const consumerKey = consumer.identity.publicKey;
const providerKey = consumer.discovery.peers.get(target.node_id)!.publicKey;
await consumer.close();
provider.kill("SIGTERM");
await provider.status;

// Both sides' records, from their files.
const pdb = Database.open(providerDb);
const charges = new Map<string, { n: number; finishedAt: number }>();
for (
  const r of pdb.all(
    `SELECT task_id, COUNT(*) AS n, MIN(finished_at) AS f FROM tasks
     WHERE role = 'provider' AND status = 'completed' AND peer_public_key = ? GROUP BY task_id`,
    consumerKey,
  )
) {
  charges.set(r.task_id as string, {
    n: Number(r.n),
    finishedAt: Number(r.f),
  });
}
const pLedger = pdb.get(
  "SELECT balance, tasks_provided FROM ledger WHERE peer_public_key = ?",
  consumerKey,
)!;
const integrity = pdb.get("PRAGMA integrity_check")?.integrity_check;
pdb.close();
const cdb = Database.open(`${dir}/consumer.db`);
const consumed = new Set(
  cdb.all(
    "SELECT task_id FROM tasks WHERE role = 'consumer' AND status = 'completed'",
  ).map((r) => r.task_id as string),
);
const cLedger = cdb.get(
  "SELECT balance, tasks_consumed FROM ledger WHERE peer_public_key = ?",
  providerKey,
)!;
cdb.close();

const providerCharges = [...charges.values()].reduce((a, c) => a + c.n, 0);
const doubles = [...charges].filter(([, c]) => c.n > 1);
const lost = [...consumed].filter((id) => !charges.has(id));
const unacked = [...charges.keys()].filter((id) => !consumed.has(id));
const notRecorded = acked.filter((a) => !consumed.has(a.taskId)).length;
// Charged once, before the attempt that got the answer was even sent: a stored result.
const replayed = acked.filter((a) => {
  const c = charges.get(a.taskId);
  return a.attempts > 1 && c?.n === 1 && c.finishedAt < a.sentAt;
}).length;
const bound = inFlightAtKills.reduce((a, b) => a + b, 0);
const extra = doubles.reduce((a, [, c]) => a + c.n - 1, 0);
const pBalanceOk =
  Number(pLedger.balance) === INITIAL - PRICE * providerCharges;
const pCounterOk = Number(pLedger.tasks_provided) === providerCharges;
const cBalanceOk = Number(cLedger.balance) === PRICE * consumed.size;
const cCounterOk = Number(cLedger.tasks_consumed) === consumed.size;
const agree = providerCharges - unacked.length - extra === consumed.size;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : 0;
};
out(
  `kill soak: ${TASKS} tasks, ${KILLS} kills, price ${PRICE}, ${CONC} in flight, ` +
    `retry with ${RETRY} task id, seed ${SEED}`,
);
const rows: [string, string | number][] = [
  ["tasks acknowledged by the consumer", acked.length],
  ["  of them in the consumer's database", consumed.size],
  ["kills (SIGKILL) / restarts", `${inFlightAtKills.length}`],
  ["attempts without an answer (retried)", failedAttempts],
  ["provider charges (completed rows)", providerCharges],
  ["charges never acknowledged", unacked.length],
  ["  bound: tasks in flight at the kills", bound],
  ["retries answered from the stored result", replayed],
  ["double charges (a task id charged twice)", extra],
  ["lost acknowledged (acked, not charged)", lost.length],
  ["acked but not in the consumer's database", notRecorded],
  ["wrong outputs", mismatches],
  [
    "provider ledger = initial − price × charges",
    pBalanceOk && pCounterOk ? "yes" : "NO",
  ],
  [
    "consumer ledger = price × acknowledged",
    cBalanceOk && cCounterOk ? "yes" : "NO",
  ],
  ["charges − unacknowledged = acknowledged", agree ? "yes" : "NO"],
  ["provider database integrity_check", String(integrity)],
  ["restart time, median (ms)", Math.round(median(restartMs))],
  ["wall time (s)", elapsedS.toFixed(1)],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) out(`${k.padEnd(width)}  ${v}`);
if (unacked.length > 0) {
  out(`unacknowledged charges (task ids, last attempt's error):`);
  for (const id of unacked.slice(0, 50)) {
    out(`  ${id}  ${unanswered.get(id) ?? "(no failed attempt seen)"}`);
  }
  if (unacked.length > 50) out(`  … ${unacked.length - 50} more`);
}
if (doubles.length > 0) {
  out(`task ids charged more than once:`);
  for (const [id, c] of doubles.slice(0, 20)) out(`  ${id}  ×${c.n}`);
}
await Deno.remove(dir, { recursive: true });
const ok = lost.length === 0 && extra === 0 && notRecorded === 0 &&
  mismatches === 0 && integrity === "ok" && unacked.length <= bound;
out(ok ? "result: ok" : "result: FAILED");
Deno.exitCode = ok ? 0 : 1;
