/** A transport that reaches relayed addresses through their keep relay, others directly. */
import type { HostPort } from "../config/mod.ts";
import { formatHostPort } from "../config/mod.ts";
import type { KeepClient, Packet } from "../relay/mod.ts";
import { type Logger, SILENT_LOGGER } from "../util/mod.ts";
import {
  MAX_RELAYED_BODY_BYTES,
  parseRelayedAddress,
  relayIdentity,
} from "./relay_address.ts";
import type {
  BodyHandler,
  ExchangeOptions,
  Listening,
  Transport,
} from "./transport.ts";

/** Collaborators of {@linkcode RelayTransport}. */
export interface RelayTransportDeps {
  /** Carries every exchange to a plain address, and `listen()`. */
  inner: Transport;
  /** Default: silent. */
  logger?: Logger;
}

interface Waiter {
  /** The identity the reply must come from. */
  from: string;
  resolve(body: Uint8Array | null): void;
  reject(error: Error): void;
}

/** One relay's client, shared by the exchanges in flight and closed after the last. */
interface Line {
  key: string;
  users: number;
  client: Promise<KeepClient>;
  waiters: Map<string, Waiter>;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8", { fatal: true });

/**
 * Wraps a transport: an exchange to a relayed address (`relay.<node_id>.<relay host>`) goes
 * as a keep packet to `knarr:<node_id>` through that relay, from an ephemeral identity, and
 * resolves the packet answering its id; everything else goes through `inner` unchanged.
 * Like a TCP exchange, the relay connection lasts only while exchanges use it.
 */
export class RelayTransport implements Transport {
  #inner: Transport;
  #log: Logger;
  #lines = new Map<string, Line>();

  /** Takes the transport for plain addresses and a logger. */
  constructor(deps: RelayTransportDeps) {
    this.#inner = deps.inner;
    this.#log = deps.logger ?? SILENT_LOGGER;
  }

  async exchange(
    to: HostPort,
    body: Uint8Array,
    options: ExchangeOptions,
  ): Promise<Uint8Array | null> {
    const relayed = parseRelayedAddress(to);
    if (relayed === null) return await this.#inner.exchange(to, body, options);
    const where = `"${formatHostPort(to)}"`;
    if (body.length > MAX_RELAYED_BODY_BYTES) {
      throw new RangeError(
        `Cannot send to ${where} through a relay: message of ${body.length} bytes exceeds ${MAX_RELAYED_BODY_BYTES}`,
      );
    }
    let text: string;
    try {
      text = DECODER.decode(body);
    } catch (error) {
      throw new SyntaxError(
        `Cannot send to ${where} through a relay: the message is not UTF-8`,
        { cause: error },
      );
    }
    const key = formatHostPort(relayed.relay);
    const line = this.#acquire(key, relayed.relay, options.timeoutMs);
    const id = crypto.randomUUID();
    const from = relayIdentity(relayed.nodeId);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (options.signal?.aborted) throw options.signal.reason;
      const reply = new Promise<Uint8Array | null>((resolve, reject) => {
        line.waiters.set(id, { from, resolve, reject });
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Request to ${where} timed out after ${options.timeoutMs} ms`,
              ),
            ),
          options.timeoutMs * 2,
        );
        stop.signal.addEventListener(
          "abort",
          () => reject(new Error(`Request to ${where} aborted`)),
          { once: true },
        );
      });
      reply.catch(() => {});
      const client = await Promise.race([line.client, reply.then(() => null)]);
      if (client === null) return await reply;
      await client.send({ typ: 0, id, dst: from, body: text }, {
        waitReply: false,
        timeoutMs: options.timeoutMs,
        signal: stop.signal,
      });
      return await reply;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      line.waiters.delete(id);
      this.#release(line);
    }
  }

  listen(host: string, port: number, handler: BodyHandler): Promise<Listening> {
    return this.#inner.listen(host, port, handler);
  }

  #acquire(key: string, relay: HostPort, timeoutMs: number): Line {
    let line = this.#lines.get(key);
    if (line === undefined) {
      const created: Line = {
        key,
        users: 0,
        waiters: new Map(),
        client: openClient(relay, timeoutMs, this.#log),
      };
      created.client.then(
        (client) => void this.#read(created, client),
        (error: Error) => this.#fail(created, error),
      );
      this.#lines.set(key, created);
      line = created;
    }
    line.users++;
    return line;
  }

  #release(line: Line): void {
    if (--line.users > 0) return;
    if (this.#lines.get(line.key) === line) this.#lines.delete(line.key);
    line.client.then((client) => client.close(), () => {});
  }

  /** A line that failed takes no new exchanges; those in flight reject. */
  #fail(line: Line, error: Error): void {
    if (this.#lines.get(line.key) === line) this.#lines.delete(line.key);
    for (const waiter of line.waiters.values()) waiter.reject(error);
  }

  async #read(line: Line, client: KeepClient): Promise<void> {
    try {
      for await (const packet of client.listen()) dispatch(line, packet);
    } catch (error) {
      this.#log.debug(`Relay client stopped: ${(error as Error).message}`);
    }
    this.#fail(
      line,
      new Error(
        `Cannot exchange through relay "${client.host}:${client.port}": connection closed`,
      ),
    );
  }
}

async function openClient(
  relay: HostPort,
  timeoutMs: number,
  logger: Logger,
): Promise<KeepClient> {
  // Loaded on first use: nodes that never meet a relayed address do not load protobufjs.
  const { KeepClient } = await import("../relay/mod.ts");
  const client = await KeepClient.create({
    host: relay.host,
    port: relay.port,
    src: `knarr-client:${crypto.randomUUID()}`,
    reconnect: false,
    timeoutMs,
    logger,
  });
  try {
    await client.connect();
  } catch (error) {
    await client.close();
    throw new Error(
      `Cannot connect to relay "${formatHostPort(relay)}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  return client;
}

/** Settles the exchange a packet answers: the relayed node's reply, or the relay's error. */
function dispatch(line: Line, packet: Packet): void {
  const waiter = line.waiters.get(packet.id);
  if (waiter === undefined) return;
  if (packet.src === "server") {
    if (packet.body.startsWith("error:")) {
      waiter.reject(
        new Error(
          `Cannot reach "${waiter.from}" through the relay: it answered "${packet.body}"`,
        ),
      );
    }
    return;
  }
  // Only the registered identity answers; the knarr message inside is verified by the node.
  if (packet.src !== waiter.from || packet.typ !== 1) return;
  waiter.resolve(packet.body === "" ? null : ENCODER.encode(packet.body));
}
