/**
 * The operator's cockpit: a token-protected web page with live updates, the actions an
 * operator needs, and `/metrics`. The only `Deno.serve` of this layer.
 */
import { isHex64, type Logger, SILENT_LOGGER } from "../util/mod.ts";
import { type Access, CockpitAuth } from "./_auth.ts";
import { EventHub } from "./_events.ts";
import { dashboardPage, loginPage, renderSections } from "./_page.ts";
import { APP_CSS, APP_JS } from "./_static.ts";
import type { CockpitSource } from "./types.ts";

/** Options for {@linkcode CockpitServer.start}. */
export interface CockpitServerOptions {
  /** The secret every request must prove (at least 16 characters). */
  token: string;
  /** Interface to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Milliseconds between live updates. Default 1000. */
  tickMs?: number;
  /** Where actions and failures are logged. Default: silent. */
  logger?: Logger;
}

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};
const MAX_ACTION_BODY_BYTES = 16_384;

function respond(
  body: BodyInit | null,
  status: number,
  type: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

function json(value: unknown, status = 200): Response {
  return respond(JSON.stringify(value), status, "application/json");
}

/**
 * A running cockpit.
 *
 * @example
 * ```ts
 * await using cockpit = await CockpitServer.start(source, { token, port: 9002 });
 * console.log(cockpit.url); // http://127.0.0.1:9002/?token=…
 * ```
 */
export class CockpitServer {
  #server: Deno.HttpServer<Deno.NetAddr>;
  #hub: EventHub;
  #token: string;
  #closed: Promise<void> | null = null;
  /** The bound interface. */
  readonly host: string;
  /** The bound port. */
  readonly port: number;

  private constructor(
    server: Deno.HttpServer<Deno.NetAddr>,
    hub: EventHub,
    token: string,
  ) {
    this.#server = server;
    this.#hub = hub;
    this.#token = token;
    this.host = server.addr.hostname;
    this.port = server.addr.port;
  }

  /** Binds the port and serves `source`; throws when the port is taken. */
  static start(
    source: CockpitSource,
    options: CockpitServerOptions,
  ): Promise<CockpitServer> {
    const host = options.host ?? "127.0.0.1";
    const log = options.logger ?? SILENT_LOGGER;
    let port = options.port ?? 0;
    const auth = new CockpitAuth(options.token, {
      // Browsers share cookies across ports: one cockpit's cookie per port.
      cookieName: () => `knarr_cockpit_${port}`,
    });
    let cached: { at: number; sections: Map<string, string> } | null = null;
    const tickMs = options.tickMs ?? 1000;
    const hub = new EventHub({
      sections: () => {
        // Computed once per tick, whatever the number of open pages.
        const now = Date.now();
        if (!cached || now - cached.at >= tickMs / 2) {
          cached = { at: now, sections: renderSections(source, now) };
        }
        return cached.sections;
      },
      tasks: (after) => source.tasks(after),
    }, { tickMs });
    const handler = new CockpitHandler(source, auth, hub, log, () => {
      cached = null;
      hub.tick();
    });
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: host,
        port,
        onListen: () => {},
        onError: (error) => {
          log.warn(`Cockpit request failed: ${(error as Error).message}`);
          return respond("Internal error", 500, "text/plain");
        },
      }, (request) => handler.handle(request));
    } catch (error) {
      const why = error instanceof Deno.errors.AddrInUse
        ? "address in use"
        : (error as Error).message;
      throw new Error(
        `Cannot listen for the cockpit on "${host}:${port}": ${why}`,
        { cause: error },
      );
    }
    port = server.addr.port;
    return Promise.resolve(new CockpitServer(server, hub, options.token));
  }

  /** The address to open, token included. */
  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}/?token=${this.#token}`;
  }

  /** Ends live streams and stops listening; idempotent. */
  close(): Promise<void> {
    return this.#closed ??= (async () => {
      this.#hub.close();
      await this.#server.shutdown();
    })();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Routes one request: the token first, then pages, events, metrics and actions. */
class CockpitHandler {
  #source: CockpitSource;
  #auth: CockpitAuth;
  #hub: EventHub;
  #log: Logger;
  #changed: () => void;

  constructor(
    source: CockpitSource,
    auth: CockpitAuth,
    hub: EventHub,
    log: Logger,
    changed: () => void,
  ) {
    this.#source = source;
    this.#auth = auth;
    this.#hub = hub;
    this.#log = log;
    this.#changed = changed;
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    // The stylesheet holds nothing secret; the login page needs it.
    if (route === "GET /app.css") return respond(APP_CSS, 200, "text/css");
    if (route === "GET /favicon.ico") return respond(null, 204, "text/plain");
    const access = this.#auth.access(request, url);
    if (!access) return this.#unauthorized(request, url);
    switch (route) {
      case "GET /":
        return this.#page(access);
      case "GET /app.js":
        return respond(APP_JS, 200, "text/javascript");
      case "GET /events":
        return this.#events(request, url);
      case "GET /metrics":
        return respond(
          this.#source.metrics(),
          200,
          "text/plain; version=0.0.4; charset=utf-8",
        );
      case "POST /actions/skill":
      case "POST /actions/peer":
      case "POST /actions/asset":
        return await this.#action(request, url, access);
    }
    return url.pathname.startsWith("/actions/") || url.pathname === "/" ||
        ["/app.js", "/events", "/metrics"].includes(url.pathname)
      ? json({ error: `${request.method} not allowed here` }, 405)
      : json({ error: "not found" }, 404);
  }

  #unauthorized(request: Request, url: URL): Response {
    const headers = { "www-authenticate": 'Bearer realm="knarr cockpit"' };
    if (request.method === "GET" && url.pathname === "/") {
      const problem = url.searchParams.has("token")
        ? "That token is not this node's."
        : "This page needs the node's cockpit token.";
      return respond(
        loginPage(problem),
        401,
        "text/html; charset=utf-8",
        headers,
      );
    }
    return respond(
      "401 Unauthorized: the cockpit token is required\n",
      401,
      "text/plain",
      headers,
    );
  }

  #page(access: Access): Response {
    if (access.kind === "query") {
      // Trade the token in the address for a session cookie, and drop it from the address.
      const { cookie } = this.#auth.login();
      return respond(null, 303, "text/plain", {
        location: "/",
        "set-cookie": cookie,
      });
    }
    const csrf = access.kind === "session" ? access.session.csrf : "";
    return respond(
      dashboardPage(this.#source, csrf, Date.now()),
      200,
      "text/html; charset=utf-8",
    );
  }

  #events(request: Request, url: URL): Response {
    const after = Math.max(
      Number(url.searchParams.get("after")) || 0,
      Number(request.headers.get("last-event-id")) || 0,
    );
    const body = this.#hub.open(after);
    if (!body) return json({ error: "too many live pages open" }, 503);
    return respond(body, 200, "text/event-stream", {
      "x-accel-buffering": "no",
    });
  }

  async #action(request: Request, url: URL, access: Access): Promise<Response> {
    if (access.kind === "session") {
      const problem = this.#auth.csrfProblem(request, url, access.session);
      if (problem) return json({ error: `Refused: ${problem}` }, 403);
    } else if (access.kind !== "bearer") {
      return json({
        error: "Actions need the session or an Authorization header",
      }, 401);
    }
    let fields: Record<string, string>;
    try {
      fields = await readFields(request);
    } catch (error) {
      return json({ error: (error as Error).message }, 400);
    }
    const kind = url.pathname.slice("/actions/".length);
    const outcome = await this.#perform(kind, fields);
    if (outcome.status === 200) {
      this.#log.info(`Cockpit: ${outcome.message}`, {
        action: kind,
        ...fields,
      });
      this.#changed();
      return json({ ok: true, message: outcome.message });
    }
    return json({ error: outcome.message }, outcome.status);
  }

  async #perform(
    kind: string,
    f: Record<string, string>,
  ): Promise<{ status: number; message: string }> {
    switch (kind) {
      case "skill": {
        const name = (f.name ?? "").trim().toLowerCase();
        if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(name)) {
          return { status: 400, message: "name must be a skill name" };
        }
        if (f.enabled !== "true" && f.enabled !== "false") {
          return { status: 400, message: 'enabled must be "true" or "false"' };
        }
        const enabled = f.enabled === "true";
        return this.#source.setSkillEnabled(name, enabled)
          ? {
            status: 200,
            message: `skill "${name}" ${enabled ? "enabled" : "disabled"}`,
          }
          : { status: 404, message: `no own skill named "${name}"` };
      }
      case "peer": {
        const id = f.node_id ?? "";
        if (!isHex64(id)) {
          return { status: 400, message: "node_id must be 64 hex characters" };
        }
        return this.#source.dropPeer(id)
          ? { status: 200, message: `peer ${id.slice(0, 16)} dropped` }
          : { status: 404, message: `no peer ${id.slice(0, 16)}` };
      }
      default: {
        const hash = f.hash ?? "";
        if (!isHex64(hash)) {
          return { status: 400, message: "hash must be 64 hex characters" };
        }
        return await this.#source.deleteAsset(hash)
          ? { status: 200, message: `asset ${hash.slice(0, 16)} deleted` }
          : { status: 404, message: `no asset ${hash.slice(0, 16)}` };
      }
    }
  }
}

/** An action's fields from a form-encoded or JSON body of at most 16 KiB. */
async function readFields(request: Request): Promise<Record<string, string>> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_ACTION_BODY_BYTES) {
    throw new RangeError(`body larger than ${MAX_ACTION_BODY_BYTES} bytes`);
  }
  const text = await request.text();
  if (text.length > MAX_ACTION_BODY_BYTES) {
    throw new RangeError(`body larger than ${MAX_ACTION_BODY_BYTES} bytes`);
  }
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("application/json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new SyntaxError("body is not JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError("body must be a JSON object");
    }
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, String(v)]),
    );
  }
  return Object.fromEntries(new URLSearchParams(text));
}
