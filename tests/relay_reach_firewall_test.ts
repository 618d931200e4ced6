/**
 * A provider whose listening port is firewalled off is still reached through a relay: relay,
 * hub, provider and consumer are real `knarr` processes inside a network namespace made for
 * the test, with an nftables rule dropping every inbound packet to the provider's port.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { MAIN_PATH } from "./cli_helpers.ts";
import { run } from "./upnp_lab.ts";

const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Why the test cannot run here, or null; installs nftables when it is missing. */
async function unavailable(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "needs Linux network namespaces";
  if (Deno.uid() !== 0) return "needs root (ip netns, nft)";
  const probe = `knarr-fw-probe-${Deno.pid}`;
  const added = await run("ip", ["netns", "add", probe]);
  if (!added.ok) return `cannot create a network namespace: ${added.out}`;
  await run("ip", ["netns", "del", probe]);
  if (!(await run("nft", ["--version"])).ok) {
    await run("apt-get", ["update", "-qq"]);
    const installed = await run("apt-get", [
      "install",
      "-y",
      "-qq",
      "nftables",
    ]);
    if (!installed.ok) return `cannot install nftables: ${installed.out}`;
  }
  return null;
}

const reason = await unavailable();

/** `ip netns exec` arguments that run `knarr <args>` inside namespace `ns`. */
function knarrIn(ns: string, args: string[]): string[] {
  return [
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    MAIN_PATH,
    ...args,
  ];
}

/** A `knarr` process inside the namespace; resolves once `ready` matched its stdout. */
async function spawnIn(
  ns: string,
  args: string[],
  ready: RegExp,
  cwd: string,
): Promise<{ child: Deno.ChildProcess; text: string }> {
  const child = new Deno.Command("ip", {
    args: knarrIn(ns, args),
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  void child.stderr.pipeTo(new WritableStream());
  const reader = child.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 30_000;
  while (!ready.test(text)) {
    if (Date.now() > deadline) throw new Error(`Not ready: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`Exited early: ${text}`);
    text += decoder.decode(value);
  }
  reader.releaseLock();
  void child.stdout.pipeTo(new WritableStream());
  return { child, text };
}

Deno.test({
  name:
    "A provider behind a firewalled port serves tasks through a relay (real processes in a namespace)",
  ignore: reason !== null,
  async fn() {
    const ns = `knarr-fw-${Deno.pid}`;
    const dir = await Deno.makeTempDir({ prefix: "knarr-relay-fw-" });
    const children: Deno.ChildProcess[] = [];
    await run("ip", ["netns", "add", ns]);
    try {
      await run("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
      const relay = await spawnIn(
        ns,
        ["relay", "--host", "127.0.0.1", "--port", "0"],
        /Relay key:/,
        dir,
      );
      children.push(relay.child);
      const relayPort = Number(
        /Relay listening: [^\n]*:(\d+)/.exec(relay.text)![1],
      );

      Deno.mkdirSync(`${dir}/hub`);
      Deno.writeTextFileSync(
        `${dir}/hub/knarr.toml`,
        `[node]\nhost = "127.0.0.1"\nport = 0\nstorage = "hub.db"\n`,
      );
      const hub = await spawnIn(
        ns,
        ["serve", "--config", `${dir}/hub/knarr.toml`],
        /Loaded \d+ skills/,
        `${dir}/hub`,
      );
      children.push(hub.child);
      const hubPort = Number(/Listening: [^\n]*:(\d+)\n/.exec(hub.text)![1]);

      Deno.mkdirSync(`${dir}/provider`);
      Deno.copyFileSync(ECHO, `${dir}/provider/echo.ts`);
      Deno.writeTextFileSync(
        `${dir}/provider/knarr.toml`,
        `[node]\nhost = "127.0.0.1"\nport = 0\nstorage = "provider.db"\n` +
          `[network]\nbootstrap = ["127.0.0.1:${hubPort}"]\nrelay = "127.0.0.1:${relayPort}"\n` +
          `[skills.echo]\nhandler = "echo.ts:handle"\ndescription = "Echo"\ntags = ["t"]\n` +
          `price = 0\ninput_schema = { text = "string" }\n`,
      );
      const provider = await spawnIn(
        ns,
        ["serve", "--config", `${dir}/provider/knarr.toml`],
        /Loaded \d+ skills/,
        `${dir}/provider`,
      );
      children.push(provider.child);
      const providerPort = Number(
        /Listening: [^\n]*:(\d+)\n/.exec(provider.text)![1],
      );
      assertMatch(
        provider.text,
        /Relayed address: relay\.[0-9a-f]{64}\.127\.0\.0\.1:/,
      );

      // From now on nothing reaches the provider's own port.
      const fw = await run("ip", [
        "netns",
        "exec",
        ns,
        "nft",
        `add table inet knarrfw; add chain inet knarrfw input { type filter hook input priority 0; policy accept; }; add rule inet knarrfw input tcp dport ${providerPort} drop`,
      ]);
      assert(fw.ok, fw.out);
      const direct = await run("ip", [
        "netns",
        "exec",
        ns,
        Deno.execPath(),
        "eval",
        `const c = Deno.connect({ hostname: "127.0.0.1", port: ${providerPort} });` +
        `const t = new Promise((_, r) => setTimeout(() => r(new Error("timeout")), 1500));` +
        `try { await Promise.race([c, t]); console.log("CONNECTED"); } catch { console.log("UNREACHABLE"); } Deno.exit(0);`,
      ]);
      assertEquals(direct.out, "UNREACHABLE");

      const request = await run(
        "ip",
        knarrIn(ns, [
          "request",
          "--skill",
          "echo",
          "--input",
          '{"text":"through the relay"}',
          "--bootstrap",
          `127.0.0.1:${hubPort}`,
          "--json",
          "--timeout",
          "20",
        ]),
      );
      assert(request.ok, request.out);
      const outcome = JSON.parse(request.out.slice(request.out.indexOf("{")));
      assertEquals(outcome.status, "completed");
      assertEquals(outcome.output_data, { text: "through the relay" });
      // The provider's port drops everything, so the task can only have gone through the relay.
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
      await run("ip", ["netns", "del", ns]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
