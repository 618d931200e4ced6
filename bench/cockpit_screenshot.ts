/**
 * The cockpit of a node under load, photographed: starts `knarr serve` with the bundled
 * echo skill (price 0), joins a peer that offers a skill of its own, sends bursts of
 * tasks with the neutral load tool (and some for a skill it does not have), then opens
 * the cockpit in headless Chromium and saves a screenshot of the top of the page.
 *
 *   flock /tmp/knarr-bench.lock deno run -A bench/cockpit_screenshot.ts [--out bench/cockpit.png]
 *
 * Needs Debian's Chromium at /usr/bin/chromium (or KNARR_CHROMIUM). Prints what it sent.
 */
import { parseArgs } from "node:util";
import puppeteer from "puppeteer-core";
import { KnarrNode } from "../src/node/mod.ts";
import { spawnKnarr } from "./_knarr_child.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { out: { type: "string", default: "bench/cockpit.png" } },
});
const TOOL = new URL("./tools/knarr_task_load.ts", import.meta.url).pathname;
const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;
const CHROMIUM = Deno.env.get("KNARR_CHROMIUM") ?? "/usr/bin/chromium";
const out = (line: string) =>
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));

async function load(port: number, n: number, conc: number, skill = "echo") {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      TOOL,
      "--port",
      String(port),
      "--n",
      String(n),
      "--conc",
      String(conc),
      "--skill",
      skill,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1] ?? "{}") as {
    completed?: number;
    tasks_per_s?: number;
  };
}

const dir = await Deno.makeTempDir({ prefix: "knarr-cockpit-shot-" });
await Deno.copyFile(ECHO, `${dir}/echo.ts`);
await Deno.writeTextFile(
  `${dir}/knarr.toml`,
  [
    "[node]",
    'host = "127.0.0.1"',
    "port = 0",
    "[skills.echo]",
    'handler = "echo.ts:handle"',
    'description = "Echoes input text back"',
    'tags = ["example"]',
    "price = 0",
    'input_schema = { text = "string" }',
  ].join("\n") + "\n",
);
const { child, text } = await spawnKnarr(
  ["serve", "--config", `${dir}/knarr.toml`, "--log-level", "error"],
  /Loaded \d+ skills/,
);
const port = Number(/Listening: [^\n]*:(\d+)\n/.exec(text)![1]);
const url = /Cockpit: (\S+)\n/.exec(text)![1]!;
const peer = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
try {
  await peer.start({ maintenance: false });
  await peer.join([{ host: "127.0.0.1", port }]);
  await peer.announce({
    name: "upper",
    version: "2.1.0",
    description: "Upper-cases text",
    tags: ["text"],
    inputSchema: { text: "string" },
    outputSchema: { text: "string" },
    price: 2,
    maxInputSize: 65_536,
  });
  for (
    const [n, conc] of [[500, 4], [3000, 32], [1500, 8], [6000, 32], [800, 1], [
      4000,
      16,
    ]]
  ) {
    const r = await load(port, n!, conc!);
    out(
      `sent ${n} echo tasks, ${conc} in flight: ${r.completed} completed, ${r.tasks_per_s}/s`,
    );
    await new Promise((r) => setTimeout(r, 8_000));
  }
  await load(port, 20, 2, "translate");
  out("sent 20 tasks for a skill the node does not have");

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    pipe: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${await Deno.makeTempDir({
        prefix: "knarr-chromium-",
      })}`,
    ],
  });
  try {
    const page = await browser.newPage();
    // The top of the page (node, chart, last tasks): a README-sized picture.
    await page.setViewport({ width: 1280, height: 1400 });
    await page.goto(url);
    await page.waitForFunction(
      `document.getElementById("status")?.textContent === "live"`,
    );
    await page.screenshot({ path: values.out as `${string}.png` });
    out(`screenshot: ${values.out}`);
  } finally {
    await browser.close();
  }
} finally {
  await peer.close();
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(dir, { recursive: true });
}
