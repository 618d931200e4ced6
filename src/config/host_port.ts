/** Parsing of `host:port` addresses (IPv6 as `[::1]:9000`). */
import type { HostPort } from "./schema.ts";

const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Parses "host:port"; throws `SyntaxError` with a message saying what is expected. */
export function parseHostPort(text: string): HostPort {
  const value = text.trim();
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(value) ??
    /^([^:\s]+):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (
    !m || port < 1 || port > 65535 ||
    !(m[1]!.includes(":") || HOSTNAME_RE.test(m[1]!))
  ) {
    throw new SyntaxError(
      `Cannot parse address "${text}": expected host:port with a port from 1 to 65535`,
    );
  }
  return { host: m[1]!, port };
}

/** Formats an address back to "host:port" ("[v6]:port" for IPv6). */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
