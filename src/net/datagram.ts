/** One UDP request, many replies: the datagram exchange SSDP discovery needs (`--unstable-net`). */

/** A datagram received in answer. */
export interface Datagram {
  /** The payload. */
  data: Uint8Array;
  /** Sender's IP address. */
  host: string;
  /** Sender's UDP port. */
  port: number;
}

/** Options for {@linkcode datagramExchange}. */
export interface DatagramExchangeOptions {
  /** Local address to bind. Default "0.0.0.0". */
  localHost?: string;
  /** How long replies are collected, in ms. Default 2000. */
  timeoutMs?: number;
  /** Times the request is sent (UDP may drop one). Default 2. */
  repeat?: number;
  /** Stops collecting at once. */
  signal?: AbortSignal;
}

/**
 * Sends `payload` to host:port (unicast or multicast) from a fresh UDP socket and yields every
 * reply until the deadline, then closes the socket. Rejects only when the socket cannot be
 * opened or the request cannot be sent.
 *
 * @example
 * ```ts
 * for await (const reply of datagramExchange(bytes, { host: "239.255.255.250", port: 1900 })) {
 *   console.log(reply.host, new TextDecoder().decode(reply.data));
 * }
 * ```
 */
export async function* datagramExchange(
  payload: Uint8Array,
  target: { host: string; port: number },
  options: DatagramExchangeOptions = {},
): AsyncGenerator<Datagram> {
  if (options.signal?.aborted) return;
  const localHost = options.localHost ?? "0.0.0.0";
  if (typeof Deno.listenDatagram !== "function") {
    throw new Error(
      "Cannot open a UDP socket: Deno.listenDatagram needs --unstable-net",
    );
  }
  let socket: Deno.DatagramConn;
  try {
    socket = Deno.listenDatagram({
      transport: "udp",
      hostname: localHost,
      port: 0,
    });
  } catch (error) {
    throw new Error(
      `Cannot open a UDP socket on "${localHost}": ${(error as Error).message}`,
      { cause: error },
    );
  }
  const deadline = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 2_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      socket.close();
    } catch { /* already closed */ }
  };
  deadline.addEventListener("abort", close, { once: true });
  try {
    const to: Deno.NetAddr = {
      transport: "udp",
      hostname: target.host,
      port: target.port,
    };
    for (let i = 0; i < Math.max(1, options.repeat ?? 2); i++) {
      try {
        await socket.send(payload, to);
      } catch (error) {
        throw new Error(
          `Cannot send a datagram to "${target.host}:${target.port}": ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
    }
    while (!closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await socket.receive();
      } catch (error) {
        if (closed) return;
        throw new Error(
          `Cannot receive datagrams: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const [data, from] = received;
      if (from.transport !== "udp") continue;
      yield { data, host: from.hostname, port: from.port };
    }
  } finally {
    deadline.removeEventListener("abort", close);
    close();
  }
}
