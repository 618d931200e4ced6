/**
 * The cockpit in a real browser: headless Chromium from Debian (`/usr/bin/chromium`,
 * which `.ci/run` installs when it is missing) driven by puppeteer-core over a pipe,
 * against a real `knarr serve` process and real `knarr request` processes.
 *
 * Without Chromium the test fails and says how to install it: CI installs it, so a
 * missing browser is a broken machine, not a reason to skip.
 */
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import type { Browser, Page } from "puppeteer-core";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr, knarrRequest, serve } from "./cli_helpers.ts";
import { KnarrNode } from "../src/node/mod.ts";

const CHROMIUM = Deno.env.get("KNARR_CHROMIUM") ?? "/usr/bin/chromium";
const EVIL =
  `<script>window.__pwned = 1; document.title = "pwned"</script><img src=x onerror="window.__pwned = 2">`;

function chromiumPath(): string {
  try {
    if (Deno.statSync(CHROMIUM).isFile) return CHROMIUM;
  } catch {
    // reported below
  }
  throw new Error(
    `Cannot run the cockpit browser test: no Chromium at "${CHROMIUM}"; ` +
      "install it with `apt-get install -y chromium` (.ci/run does) or set KNARR_CHROMIUM",
  );
}

async function launch(): Promise<Browser> {
  const profile = Deno.makeTempDirSync({ prefix: "knarr-chromium-" });
  return await puppeteer.launch({
    executablePath: chromiumPath(),
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
      `--user-data-dir=${profile}`,
    ],
  });
}

/** Where the screenshot goes: `$KNARR_TEST_OUTPUT`, else a fresh temporary directory. */
function outputDir(): string {
  const dir = Deno.env.get("KNARR_TEST_OUTPUT") ??
    Deno.makeTempDirSync({ prefix: "knarr-test-output-" });
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Waits until `expression` is true in the page (browser code as text: no DOM types here). */
async function until(page: Page, expression: string): Promise<void> {
  await page.waitForFunction(expression, { timeout: 15_000 });
}

function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (e) => e.textContent ?? "");
}

Deno.test({
  name:
    "Cockpit in headless Chromium: 401 without the token, a task appears live, an evil description stays text, a disabled skill is refused",
  // puppeteer keeps its own timers and pipe reads until the browser is gone; the
  // browser, the node and the serve process are all closed below.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const cwd = Deno.makeTempDirSync({ prefix: "knarr-cockpit-" });
    assertEquals((await knarr(["init", "p"], { cwd })).code, 0);
    const dir = join(cwd, "p");
    const node = await serve(dir);
    const browser = await launch();
    const peer = await KnarrNode.create({ host: "127.0.0.1", port: 0 });
    try {
      const url = node.lines.map((l) => /^Cockpit: (\S+)$/.exec(l)?.[1]).find(
        Boolean,
      );
      assert(url, `serve printed no Cockpit line: ${node.lines.join("\n")}`);
      const base = url.slice(0, url.indexOf("/?token="));
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 1600 });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));

      // No token, no page.
      const refused = await page.goto(`${base}/`);
      assertEquals(refused?.status(), 401);
      assertMatch(
        await text(page, "form.login"),
        /needs the node's cockpit token/,
      );

      // The printed address logs in and drops the token from the address bar.
      const opened = await page.goto(url);
      assertEquals(opened?.status(), 200);
      assertEquals(page.url(), `${base}/`);
      await until(
        page,
        `document.getElementById("status")?.textContent === "live"`,
      );
      await page.evaluate(() => {
        (globalThis as unknown as { __marker: number }).__marker = 42;
      });

      // A task run from another process shows up without a reload.
      const done = await knarrRequest(node.port, "echo", '{"text": "hello"}');
      assertEquals(done.code, 0, done.stderr);
      await until(
        page,
        `[...document.querySelectorAll("#task-rows tr")].some((r) =>
        r.textContent.includes("echo") && r.textContent.includes("completed"))`,
      );

      // A peer announces a skill whose description is markup: it shows as text.
      await peer.start({ maintenance: false });
      await peer.join([{ host: "127.0.0.1", port: node.port }]);
      await peer.announce({
        name: "evil",
        version: "1.0.0",
        description: EVIL,
        tags: ["evil"],
        inputSchema: {},
        outputSchema: {},
        price: 1,
        maxInputSize: 1024,
      });
      await until(
        page,
        `[...document.querySelectorAll("#skills td")].some((td) =>
        td.textContent === ${JSON.stringify(EVIL)})`,
      );
      assertEquals(
        await page.evaluate(() =>
          (globalThis as unknown as { __pwned?: number }).__pwned ?? null
        ),
        null,
      );
      assert(!(await page.title()).includes("pwned"));
      assertEquals(
        await page.$$eval("#skills img, #skills script", (e) => e.length),
        0,
      );

      // Disable echo in the page; the next request for it is refused.
      await page.click('button[data-action="skill"][data-name="echo"]');
      await until(
        page,
        `document.querySelector('tr[data-skill="echo"] td.state')
        ?.textContent === "disabled"`,
      );
      const refusedTask = await knarrRequest(
        node.port,
        "echo",
        '{"text": "again"}',
      );
      assertEquals(refusedTask.code, 1);
      assertMatch(
        refusedTask.stdout,
        /^Error: SKILL_DISABLED — Skill 'echo' is disabled on this node$/m,
      );
      await until(
        page,
        `[...document.querySelectorAll("#task-rows tr")].some((r) =>
        r.textContent.includes("SKILL_DISABLED"))`,
      );
      assertEquals(
        await page.evaluate(() =>
          (globalThis as unknown as { __marker?: number }).__marker
        ),
        42,
        "everything above arrived live, without a reload",
      );
      assertEquals(errors, []);

      const shot = join(outputDir(), "cockpit.png");
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      assert(Deno.statSync(shot).size > 10_000);
      // Where it went, in the test's output.
      Deno.stderr.writeSync(
        new TextEncoder().encode(`cockpit screenshot: ${shot}\n`),
      );
    } finally {
      await browser.close();
      await peer.close();
      const { code } = await node.stop();
      assertEquals(code, 0);
    }
  },
});
