/**
 * `[network] upnp` against a real gateway: Debian's miniupnpd in network namespaces made by
 * tests/upnp_lab.ts (skipped with the reason when not root or without netns).
 */
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertMatch,
  assertStrictEquals,
} from "./assert.ts";
import { knarr, MAIN_PATH } from "./cli_helpers.ts";
import {
  EXTERNAL_IP,
  GATEWAY_IP,
  labUnavailable,
  LAN_IP,
  openLab,
} from "./upnp_lab.ts";
import type { UpnpLab } from "./upnp_lab.ts";

const reason = await labUnavailable();
const ignore = reason !== null;
if (reason) {
  // deno-lint-ignore no-console
  console.warn(`skipping UPnP gateway tests: ${reason}`);
}

/** A `knarr init` project with `[network] upnp = true` on port 9000. */
async function project(): Promise<string> {
  const cwd = await Deno.makeTempDir({ prefix: "knarr-upnp-" });
  assertEquals((await knarr(["init", "p"], { cwd })).code, 0);
  const dir = join(cwd, "p");
  const file = join(dir, "knarr.toml");
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(
    file,
    text.replace("[network]\n", "[network]\nupnp = true\n"),
  );
  return dir;
}

/** `ip` arguments that run `knarr <args>` inside the LAN namespace. */
function knarrInLan(lab: UpnpLab, args: string[]): string[] {
  return lab.inLan(Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    MAIN_PATH,
    ...args,
  ]);
}

/** `knarr <args>` inside the LAN namespace, in the background. */
function spawnInLan(lab: UpnpLab, dir: string, args: string[]) {
  const child = new Deno.Command("ip", {
    args: knarrInLan(lab, args),
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const lines: string[] = [];
  let buffered = "";
  return {
    child,
    lines,
    /** Reads stdout until a line matches. */
    async until(pattern: RegExp): Promise<void> {
      while (!lines.some((l) => pattern.test(l))) {
        const { done, value } = await reader.read();
        if (done) {
          throw new Error(`knarr exited before ${pattern}: ${await stderr}`);
        }
        buffered += value;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        lines.push(...parts);
      }
    },
    /** SIGINT, then the exit code and stderr. */
    async stop(): Promise<{ code: number; stderr: string }> {
      child.kill("SIGINT");
      const rest = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          lines.push(...value.split("\n").filter(Boolean));
        }
      })();
      const status = await child.status;
      await rest;
      return { code: status.code, stderr: await stderr };
    },
  };
}

async function runInLan(lab: UpnpLab, dir: string, args: string[]) {
  const r = await new Deno.Command("ip", {
    args: knarrInLan(lab, args),
    cwd: dir,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: r.code,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
  };
}

Deno.test({
  name:
    "knarr serve maps its ports on miniupnpd, advertises the external address and unmaps on exit",
  ignore,
  async fn() {
    await using lab = await openLab();
    await lab.startGateway();
    const dir = await project();
    const node = spawnInLan(lab, dir, ["serve"]);
    let stopped = false;
    try {
      await node.until(/^Loaded \d+ skills/);
      const upnp = node.lines.find((l) => l.startsWith("UPnP: "));
      assertMatch(
        upnp ?? "",
        new RegExp(
          `^UPnP: mapped 9000 and 9001 on ${
            GATEWAY_IP.replaceAll(".", "\\.")
          }, ` +
            `external ${
              EXTERNAL_IP.replaceAll(".", "\\.")
            } \\(discovery \\d+ ms, mapping \\d+ ms\\)$`,
        ),
      );
      assert(
        node.lines.includes(`Advertising: ${EXTERNAL_IP}`),
        node.lines.join("\n"),
      );

      const leases = lab.leases().trim().split("\n").map((l) =>
        l.replace(/:\d+:knarr/, ":<expiry>:knarr")
      );
      assertEquals(leases.sort(), [
        `TCP:9000:${LAN_IP}:9000:<expiry>:knarr protocol 9000`,
        `TCP:9001:${LAN_IP}:9001:<expiry>:knarr sidecar 9001`,
      ]);
      const rules = await lab.natRules();
      assertMatch(rules, new RegExp(`dport 9000 dnat ip to ${LAN_IP}:9000`));
      assertMatch(rules, new RegExp(`dport 9001 dnat ip to ${LAN_IP}:9001`));

      // The announced address is the external one: another node sees it on the wire.
      const q = await runInLan(lab, dir, [
        "query",
        "--bootstrap",
        "127.0.0.1:9000",
        "--name",
        "echo",
      ]);
      assertStrictEquals(q.code, 0, q.stderr);
      assertMatch(
        q.stdout,
        new RegExp(`${EXTERNAL_IP.replaceAll(".", "\\.")}:9000`),
      );

      const exit = await node.stop();
      stopped = true;
      assertStrictEquals(exit.code, 0, exit.stderr);
      assertEquals(lab.leases().trim(), "");
      const after = await lab.natRules();
      assert(!/dnat/.test(after), after);
    } finally {
      if (!stopped) await node.stop();
      await Deno.remove(join(dir, ".."), { recursive: true });
    }
  },
});

Deno.test({
  name: "knarr serve warns once and keeps running when UPnP fails",
  ignore,
  async fn(t) {
    await using lab = await openLab();
    const dir = await project();
    try {
      for (
        const [step, start, warning] of [
          [
            "no gateway answers the M-SEARCH",
            false,
            /^.* WARN UPnP: ports not mapped, continuing without: Cannot find a UPnP gateway: no answer to M-SEARCH within 2000 ms$/,
          ],
          [
            "the gateway refuses the mapping (miniupnpd without its nftables chains)",
            true,
            /^.* WARN UPnP: ports not mapped, continuing without: Gateway refused AddPortMapping: UPnP error 501 ActionFailed$/,
          ],
        ] as const
      ) {
        await t.step(step, async () => {
          if (start) await lab.startGateway({ rules: false });
          const began = performance.now();
          const node = spawnInLan(lab, dir, ["serve"]);
          await node.until(/^Loaded \d+ skills/);
          const startup = performance.now() - began;
          assert(!node.lines.some((l) => l.startsWith("UPnP:")));
          assert(
            node.lines.some((l) =>
              l.startsWith("Auto-detected advertise address: ")
            ),
          );
          // Still serving: a query through it answers.
          const q = await runInLan(lab, dir, [
            "query",
            "--bootstrap",
            "127.0.0.1:9000",
            "--name",
            "echo",
          ]);
          assertStrictEquals(q.code, 0, q.stderr);
          const exit = await node.stop();
          assertStrictEquals(exit.code, 0, exit.stderr);
          const upnpLines = exit.stderr.split("\n").filter((l) =>
            l.includes("UPnP")
          );
          assertStrictEquals(upnpLines.length, 1, exit.stderr);
          assertMatch(upnpLines[0]!, warning);
          assert(startup < 15_000, `startup took ${startup} ms`);
          assertEquals(lab.leases().trim(), "");
        });
      }
    } finally {
      await Deno.remove(join(dir, ".."), { recursive: true });
    }
  },
});
