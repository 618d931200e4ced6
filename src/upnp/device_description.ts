/** The gateway's device description: find its WAN connection service and control URL. */

/** Descriptions longer than this are refused (real gateways send a few KiB). */
export const MAX_DESCRIPTION_BYTES = 262_144;

/** The WAN connection service that takes port-mapping actions. */
export interface WanService {
  /** e.g. "urn:schemas-upnp-org:service:WANIPConnection:1". */
  serviceType: string;
  /** Absolute http: URL the SOAP actions are posted to. */
  controlUrl: string;
}

const SERVICE_OPEN = /<(?:[A-Za-z_][\w.-]*:)?service(?:\s[^<>]*)?>/g;
const SERVICE_CLOSE = /<\/(?:[A-Za-z_][\w.-]*:)?service\s*>/g;
const WAN_TYPE =
  /^urn:schemas-upnp-org:service:(WANIPConnection|WANPPPConnection):(\d{1,3})$/;

/** The text of the first `<name>` element in `xml` (entities decoded), or null. */
export function elementText(xml: string, name: string): string | null {
  const pattern = new RegExp(
    `<(?:[A-Za-z_][\\w.-]*:)?${name}(?:\\s[^<>]*)?>([^<]*)</(?:[A-Za-z_][\\w.-]*:)?${name}\\s*>`,
  );
  const m = pattern.exec(xml);
  return m ? decodeEntities(m[1]!).trim() : null;
}

/** Decodes the five XML entities and numeric references; leaves anything else as is. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|lt|gt|amp|quot|apos);/g, (
    whole,
    ref: string,
  ) => {
    switch (ref) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const code = ref[1] === "x"
      ? parseInt(ref.slice(2), 16)
      : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * Finds the WANIPConnection (preferred) or WANPPPConnection service in a device description
 * fetched from `location`. Relative control URLs resolve against `<URLBase>` or `location`;
 * a control URL on another host than `location` is refused, so a hostile answer cannot
 * point the client elsewhere. Returns null when there is no usable service; never throws.
 */
export function findWanService(
  xml: string,
  location: string,
): WanService | null {
  if (xml.length > MAX_DESCRIPTION_BYTES) return null;
  let origin: URL;
  try {
    origin = new URL(location);
  } catch {
    return null;
  }
  const base = elementText(xml, "URLBase") || location;
  const found: { rank: number; service: WanService }[] = [];
  for (const block of serviceBlocks(xml)) {
    const type = WAN_TYPE.exec(elementText(block, "serviceType") ?? "");
    const control = elementText(block, "controlURL");
    if (!type || !control) continue;
    let url: URL;
    try {
      url = new URL(control, new URL(base, location));
    } catch {
      continue;
    }
    if (url.protocol !== "http:" || url.hostname !== origin.hostname) continue;
    found.push({
      rank: type[1] === "WANIPConnection" ? 0 : 1,
      service: { serviceType: type[0], controlUrl: url.href },
    });
  }
  found.sort((a, b) => a.rank - b.rank);
  return found[0]?.service ?? null;
}

/** The contents of each `<service>` element, in one linear pass (no backtracking blow-up). */
function* serviceBlocks(xml: string): Generator<string> {
  const open = new RegExp(SERVICE_OPEN.source, "g");
  const close = new RegExp(SERVICE_CLOSE.source, "g");
  for (;;) {
    const start = open.exec(xml);
    if (!start) return;
    close.lastIndex = open.lastIndex;
    const end = close.exec(xml);
    if (!end) return;
    yield xml.slice(open.lastIndex, end.index);
    open.lastIndex = close.lastIndex;
  }
}
