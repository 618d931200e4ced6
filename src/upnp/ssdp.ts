/** SSDP (UPnP discovery): the M-SEARCH request and the parser for its unicast answers. */

/** The SSDP multicast group and port. */
export const SSDP_ADDRESS = { host: "239.255.255.250", port: 1900 } as const;

/** The search target of an internet gateway device. */
export const IGD_SEARCH_TARGET =
  "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

/** Answers longer than this are not SSDP and are ignored. */
export const MAX_SSDP_RESPONSE_BYTES = 8_192;

/** A parsed M-SEARCH answer. */
export interface SsdpResponse {
  /** The device description URL (an http: URL). */
  location: string;
  /** The search target answered (`ST`), or "". */
  searchTarget: string;
  /** The unique service name (`USN`), or "". */
  usn: string;
  /** The `SERVER` header, or "". */
  server: string;
}

/** The M-SEARCH request for `target`; devices answer within `mxSeconds` (1 to 5). */
export function buildSearchRequest(
  target: string = IGD_SEARCH_TARGET,
  mxSeconds = 2,
): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(target)) {
    throw new TypeError(`Cannot build an M-SEARCH for target "${target}"`);
  }
  const mx = Math.min(5, Math.max(1, Math.round(mxSeconds)));
  return [
    "M-SEARCH * HTTP/1.1",
    `HOST: ${SSDP_ADDRESS.host}:${SSDP_ADDRESS.port}`,
    'MAN: "ssdp:discover"',
    `MX: ${mx}`,
    `ST: ${target}`,
    "",
    "",
  ].join("\r\n");
}

/**
 * Parses an M-SEARCH answer; null for anything else (a NOTIFY, another search, a non-200
 * status, no http: LOCATION, oversized or binary junk). Never throws.
 */
export function parseSearchResponse(text: string): SsdpResponse | null {
  if (text.length > MAX_SSDP_RESPONSE_BYTES) return null;
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200(\s|$)/i.test(lines[0] ?? "")) return null;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const raw = headers.get("location") ?? "";
  let location: URL;
  try {
    location = new URL(raw);
  } catch {
    return null;
  }
  if (location.protocol !== "http:" || location.hostname === "") return null;
  return {
    location: location.href,
    searchTarget: headers.get("st") ?? "",
    usn: headers.get("usn") ?? "",
    server: headers.get("server") ?? "",
  };
}
