/** Which address a node advertises: explicit, bound, or detected from interfaces and routes. */

/** How the advertised host was chosen. */
export interface AdvertiseChoice {
  /** The host announced to other nodes. */
  host: string;
  /** "explicit" (config or flag), "bound" (listening on a specific address), "detected". */
  source: "explicit" | "bound" | "detected";
  /** True for private, loopback, link-local or CGNAT addresses. */
  isPrivate: boolean;
}

/** True for addresses other networks cannot reach directly. */
export function isPrivateAddress(host: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host);
  if (!m) {
    return host === "::1" || host === "localhost" || /^f[cd]/i.test(host) ||
      /^fe80/i.test(host);
  }
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || a === 0;
}

/** The interface of the IPv4 default route, from /proc/net/route (Linux), or null. */
function defaultRouteInterface(): string | null {
  try {
    const lines = Deno.readTextFileSync("/proc/net/route").trim().split("\n")
      .slice(1);
    for (const line of lines) {
      const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
      if (destination === "00000000" && mask === "00000000" && iface) {
        return iface;
      }
    }
  } catch {
    // not Linux, or no permission: fall back to the interface list
  }
  return null;
}

/**
 * Picks the outward-facing IPv4 address from the machine's interfaces and routes, asking
 * no outside service: the default route's interface first, then any public address, then
 * any non-loopback one, then 127.0.0.1.
 */
export function detectAddress(): string {
  let interfaces: Deno.NetworkInterfaceInfo[] = [];
  try {
    interfaces = Deno.networkInterfaces();
  } catch {
    return "127.0.0.1";
  }
  const v4 = interfaces.filter((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  const route = defaultRouteInterface();
  const viaRoute = v4.find((i) => i.name === route);
  if (viaRoute) return viaRoute.address;
  return v4.find((i) => !isPrivateAddress(i.address))?.address ??
    v4[0]?.address ?? "127.0.0.1";
}

/** Chooses the advertised host for a node bound to `boundHost`. */
export function chooseAdvertiseHost(
  explicit: string | null,
  boundHost: string,
): AdvertiseChoice {
  if (explicit) {
    return {
      host: explicit,
      source: "explicit",
      isPrivate: isPrivateAddress(explicit),
    };
  }
  if (boundHost !== "0.0.0.0" && boundHost !== "::" && boundHost !== "") {
    return {
      host: boundHost,
      source: "bound",
      isPrivate: isPrivateAddress(boundHost),
    };
  }
  const host = detectAddress();
  return { host, source: "detected", isPrivate: isPrivateAddress(host) };
}
