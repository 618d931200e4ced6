/** The endpoint cache shared with the Python SDK: `~/.keep/endpoints.json`. */
import { dirname, join } from "node:path";

/** One cached relay, as the Python SDK writes it. */
export interface CachedEndpoint {
  /** Relay host. */
  host: string;
  /** Relay port. */
  port: number;
  /** Relay version from `discover:info`; "" when unknown. */
  version: string;
  /** Registered agents at the last `discover:info`; 0 when unknown. */
  agents_online: number;
  /** ISO-8601 UTC time of the last successful `discover:info`. */
  last_seen: string;
}

/** What `discover:info` returned (fields the cache keeps). */
export interface EndpointInfo {
  /** Relay version; kept only when a string. */
  version?: unknown;
  /** Registered agents; kept only when a number. */
  agents_online?: unknown;
}

/** Options for {@linkcode EndpointCache}. */
export interface EndpointCacheOptions {
  /** Cache file. Default `$HOME/.keep/endpoints.json`. */
  path?: string;
  /** Time source for `last_seen`. Default `() => new Date()`. */
  now?: () => Date;
}

/**
 * Reads and updates the endpoint cache: `{"endpoints":[{host, port, version, agents_online,
 * last_seen}]}`, entries updated in place by (host, port); a corrupt file reads as empty.
 *
 * @example
 * ```ts
 * const cache = new EndpointCache({ path: "/tmp/endpoints.json" });
 * await cache.record("127.0.0.1", 9009, { version: "0.5.0", agents_online: 3 });
 * ```
 */
export class EndpointCache {
  /** The cache file. */
  readonly path: string;
  #now: () => Date;

  /** Takes the cache file path and time source (defaults: `$HOME/.keep/endpoints.json`, `new Date()`). */
  constructor(options: EndpointCacheOptions = {}) {
    this.path = options.path ?? defaultPath();
    this.#now = options.now ?? (() => new Date());
  }

  /** The valid cached endpoints in file order; empty when the file is missing or corrupt. */
  async read(): Promise<CachedEndpoint[]> {
    const endpoints: CachedEndpoint[] = [];
    for (const e of await this.#readRaw()) {
      if (
        !isObject(e) || typeof e.host !== "string" || !Number.isInteger(e.port)
      ) continue;
      endpoints.push({
        host: e.host,
        port: e.port as number,
        version: typeof e.version === "string" ? e.version : "",
        agents_online: typeof e.agents_online === "number"
          ? e.agents_online
          : 0,
        last_seen: typeof e.last_seen === "string" ? e.last_seen : "",
      });
    }
    return endpoints;
  }

  /**
   * Updates the entry of (host, port) in place, or appends one. Entries `read()` skips, and
   * unknown fields, are not written back.
   */
  async record(
    host: string,
    port: number,
    info: EndpointInfo,
  ): Promise<CachedEndpoint> {
    const entry: CachedEndpoint = {
      host,
      port,
      version: typeof info.version === "string" ? info.version : "",
      agents_online: typeof info.agents_online === "number"
        ? info.agents_online
        : 0,
      last_seen: pythonIsoUtc(this.#now()),
    };
    // Only entries read() accepts go back, with their known fields: junk written back
    // pretty-printed could be huge (one nested 3,000 deep took 2 s and 9 MB; found by fuzzing).
    const entries: Partial<CachedEndpoint>[] = (await this.#readRaw()).flatMap(
      (e) => {
        const kept = wellFormed(e);
        return kept ? [kept] : [];
      },
    );
    const i = entries.findIndex((e) => e.host === host && e.port === port);
    if (i >= 0) entries[i] = entry;
    else entries.push(entry);
    await Deno.mkdir(dirname(this.path), { recursive: true });
    // Write then rename, so a reader never sees half a file.
    const temp = `${this.path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(
      temp,
      JSON.stringify({ endpoints: entries }, null, 2),
    );
    await Deno.rename(temp, this.path);
    return entry;
  }

  async #readRaw(): Promise<unknown[]> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw new Error(
        `Cannot read endpoint cache "${this.path}": ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    try {
      const data: unknown = JSON.parse(text);
      const endpoints = isObject(data) ? data.endpoints : undefined;
      return Array.isArray(endpoints) ? endpoints : [];
    } catch {
      return [];
    }
  }
}

/** An entry's known fields of the right types (those present), or null when it is no entry. */
function wellFormed(e: unknown): Partial<CachedEndpoint> | null {
  if (!isObject(e) || typeof e.host !== "string" || !Number.isInteger(e.port)) {
    return null;
  }
  const kept: Partial<CachedEndpoint> = {
    host: e.host,
    port: e.port as number,
  };
  if (typeof e.version === "string") kept.version = e.version;
  if (typeof e.agents_online === "number") kept.agents_online = e.agents_online;
  if (typeof e.last_seen === "string") kept.last_seen = e.last_seen;
  return kept;
}

function defaultPath(): string {
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) {
    throw new Error(
      "Cannot locate the endpoint cache: HOME is not set; pass a path",
    );
  }
  return join(home, ".keep", "endpoints.json");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `datetime.now(timezone.utc).isoformat()` as Python prints it: microseconds and `+00:00`. */
function pythonIsoUtc(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00");
}
