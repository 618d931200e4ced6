/** Remote addresses as per-address limits count them. */

/**
 * The group a remote host counts under: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4 one), an IPv6 address as its /64 (one host often holds a whole /64, as
 * go-libp2p and Kademlia implementations count it), anything else lowercased.
 *
 * @example
 * ```ts
 * addressGroup("2001:db8::1"); // "2001:db8:0:0::/64"
 * addressGroup("::ffff:10.0.0.1"); // "10.0.0.1"
 * ```
 */
export function addressGroup(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  const zone = h.indexOf("%");
  if (zone >= 0) h = h.slice(0, zone);
  if (!h.includes(":")) return h;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return mapped[1]!;
  const halves = h.split("::");
  if (halves.length > 2) return h;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return h;
  const words = [...head, ...Array(missing).fill("0"), ...tail];
  const prefix = words.slice(0, 4).map((w) => parseInt(w, 16));
  if (prefix.some((w) => !(w >= 0 && w <= 0xffff))) return h;
  return `${prefix.map((w) => w.toString(16)).join(":")}::/64`;
}

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "::1" || h === "localhost" || addressGroup(h).startsWith("127.");
}
