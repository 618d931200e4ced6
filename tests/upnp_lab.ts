/**
 * A private UPnP lab for tests: a "gw" and a "lan" network namespace joined by a veth pair,
 * Debian's miniupnpd on the gateway with a public-looking WAN address (11.0.0.7 on a veth
 * that leads nowhere). Nothing is created in the machine's own namespace, so no multicast
 * ever reaches its real interfaces. Needs root, `ip netns` and nftables; installs miniupnpd,
 * iproute2 and iptables with apt-get when they are missing.
 */

/** The gateway's LAN address, where miniupnpd answers. */
export const GATEWAY_IP = "192.168.77.1";
/** The LAN host's address (knarr runs there). */
export const LAN_IP = "192.168.77.2";
/** The gateway's WAN address: public-looking, since miniupnpd refuses private ones. */
export const EXTERNAL_IP = "11.0.0.7";

// miniupnpd's nftables backend expects these chains; Debian's nft_init.sh needs the
// iptables helper script and fails, so the lab loads them itself.
const RULES = `table inet filter {
  chain miniupnpd {
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
  }
}
`;

/** Runs a command to completion: whether it succeeded, and its stdout and stderr. */
export async function run(
  command: string,
  args: string[],
): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(command, {
      args,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return {
      ok: r.success,
      out: (decoder.decode(r.stdout) + decoder.decode(r.stderr)).trim(),
    };
  } catch (error) {
    return { ok: false, out: (error as Error).message };
  }
}

async function must(command: string, args: string[]): Promise<string> {
  const r = await run(command, args);
  if (!r.ok) {
    throw new Error(`Cannot run "${command} ${args.join(" ")}": ${r.out}`);
  }
  return r.out;
}

function has(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Why the lab cannot run here (for `ignore`), or null when it can; installs miniupnpd if needed. */
export async function labUnavailable(): Promise<string | null> {
  if (Deno.build.os !== "linux") {
    return "UPnP lab needs Linux network namespaces";
  }
  if (Deno.uid() !== 0) return "UPnP lab needs root (ip netns, nftables)";
  const probe = `knarr-probe-${Deno.pid}`;
  const added = await run("ip", ["netns", "add", probe]);
  if (!added.ok) {
    return `UPnP lab cannot create a network namespace: ${added.out}`;
  }
  await run("ip", ["netns", "del", probe]);
  if (!has("/usr/sbin/miniupnpd") || !has("/usr/sbin/nft")) {
    await run("apt-get", ["update", "-qq"]);
    const installed = await run("apt-get", [
      "install",
      "-y",
      "-qq",
      "miniupnpd",
      "iproute2",
      "iptables",
      "nftables",
    ]);
    if (!installed.ok || !has("/usr/sbin/miniupnpd")) {
      return `UPnP lab cannot install miniupnpd: ${
        installed.out.split("\n").at(-1)
      }`;
    }
  }
  return null;
}

/** A running lab; dispose removes the namespaces, miniupnpd and the temp dir. */
export interface UpnpLab extends AsyncDisposable {
  /** The LAN namespace's name. */
  lan: string;
  /** The gateway namespace's name. */
  gateway: string;
  /** Temp dir with miniupnpd's config, log and lease file. */
  dir: string;
  /** Starts miniupnpd (with its nftables chains unless `rules` is false). */
  startGateway(options?: { rules?: boolean }): Promise<void>;
  /** Stops miniupnpd. */
  stopGateway(): Promise<void>;
  /** miniupnpd's lease file ("" when absent): one `TCP:ext:client:int:expiry:desc` per mapping. */
  leases(): string;
  /** The DNAT rules miniupnpd installed. */
  natRules(): Promise<string>;
  /** Arguments that run `command` inside the LAN namespace through `ip netns exec`. */
  inLan(command: string, args: string[]): string[];
}

/** Creates the namespaces and links; the gateway starts with `startGateway()`. */
export async function openLab(): Promise<UpnpLab> {
  const tag = `${Deno.pid}-${Math.floor(Math.random() * 1e6)}`;
  const gateway = `knarr-gw-${tag}`;
  const lan = `knarr-lan-${tag}`;
  const dir = await Deno.makeTempDir({ prefix: "knarr-upnp-lab-" });
  let daemon: Deno.ChildProcess | null = null;
  const lab: UpnpLab = {
    lan,
    gateway,
    dir,
    async startGateway(options = {}) {
      if (options.rules !== false) {
        await Deno.writeTextFile(`${dir}/rules.nft`, RULES);
        await must("ip", [
          "netns",
          "exec",
          gateway,
          "nft",
          "-f",
          `${dir}/rules.nft`,
        ]);
      }
      await Deno.writeTextFile(
        `${dir}/miniupnpd.conf`,
        [
          "ext_ifname=wan0",
          "listening_ip=lan0",
          "http_port=5555",
          "enable_natpmp=no",
          "enable_upnp=yes",
          "secure_mode=yes",
          `lease_file=${dir}/leases`,
          "system_uptime=yes",
          "uuid=3e1a2b4c-0000-4000-8000-00000000cafe",
          "allow 1024-65535 192.168.77.0/24 1024-65535",
          "deny 0-65535 0.0.0.0/0 0-65535",
          "",
        ].join("\n"),
      );
      // The shell only redirects the log, then becomes `ip netns exec`, which becomes miniupnpd.
      daemon = new Deno.Command("sh", {
        args: [
          "-c",
          'exec ip netns exec "$1" miniupnpd -d -P "$2/miniupnpd.pid" -f "$2/miniupnpd.conf" >"$2/miniupnpd.log" 2>&1',
          "sh",
          gateway,
          dir,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Ready once it logs its HTTP port (its SSDP socket is open by then).
      for (let i = 0; i < 100; i++) {
        const log = await Deno.readTextFile(`${dir}/miniupnpd.log`).catch(() =>
          ""
        );
        if (log.includes("HTTP listening on port")) {
          // The SSDP socket opens right after; give it a moment.
          await new Promise((r) => setTimeout(r, 300));
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(
        `Cannot start miniupnpd: ${await Deno.readTextFile(
          `${dir}/miniupnpd.log`,
        )}`,
      );
    },
    async stopGateway() {
      if (!daemon) return;
      const child = daemon;
      daemon = null;
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
    },
    leases() {
      try {
        return Deno.readTextFileSync(`${dir}/leases`);
      } catch {
        return "";
      }
    },
    natRules() {
      return must("ip", [
        "netns",
        "exec",
        gateway,
        "nft",
        "list",
        "chain",
        "inet",
        "filter",
        "prerouting_miniupnpd",
      ]);
    },
    inLan(command, args) {
      return ["netns", "exec", lan, command, ...args];
    },
    async [Symbol.asyncDispose]() {
      await lab.stopGateway();
      await run("ip", ["netns", "del", lan]);
      await run("ip", ["netns", "del", gateway]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
  try {
    await must("ip", ["netns", "add", gateway]);
    await must("ip", ["netns", "add", lan]);
    // Both links are created inside the namespaces: nothing appears on the host.
    await must("ip", [
      "-n",
      gateway,
      "link",
      "add",
      "lan0",
      "type",
      "veth",
      "peer",
      "name",
      "lan0",
      "netns",
      lan,
    ]);
    await must("ip", [
      "-n",
      gateway,
      "link",
      "add",
      "wan0",
      "type",
      "veth",
      "peer",
      "name",
      "wan1",
    ]);
    const steps: [string, string[]][] = [
      [gateway, ["addr", "add", `${GATEWAY_IP}/24`, "dev", "lan0"]],
      [gateway, ["addr", "add", `${EXTERNAL_IP}/24`, "dev", "wan0"]],
      [lan, ["addr", "add", `${LAN_IP}/24`, "dev", "lan0"]],
      [gateway, ["link", "set", "lo", "up"]],
      [gateway, ["link", "set", "lan0", "up"]],
      [gateway, ["link", "set", "wan0", "up"]],
      [gateway, ["link", "set", "wan1", "up"]],
      [lan, ["link", "set", "lo", "up"]],
      [lan, ["link", "set", "lan0", "up"]],
      [gateway, ["route", "add", "default", "via", "11.0.0.1", "dev", "wan0"]],
      [lan, ["route", "add", "default", "via", GATEWAY_IP]],
    ];
    for (const [ns, args] of steps) await must("ip", ["-n", ns, ...args]);
  } catch (error) {
    await lab[Symbol.asyncDispose]();
    throw error;
  }
  return lab;
}
