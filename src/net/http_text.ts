/** A small bounded HTTP request for LAN control protocols (UPnP): deadline, size cap, no redirects. */

/** Options for {@linkcode httpText}. */
export interface HttpTextOptions {
  /** Largest body accepted, in bytes. Default 65536. */
  maxBytes?: number;
  /** Statuses whose body is returned; others reject. Default [200]. */
  statuses?: readonly number[];
  /** Aborts the request (pass a deadline, e.g. `AbortSignal.timeout`). */
  signal?: AbortSignal;
  /** HTTP client. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/**
 * Sends one HTTP request and resolves the body as text. Rejects with a one-line Error naming
 * the method and URL when it fails, answers another status, or sends more than `maxBytes`
 * (RangeError).
 *
 * @example
 * ```ts
 * const xml = await httpText("http://192.168.1.1:5000/rootDesc.xml", { method: "GET" }, {
 *   signal: AbortSignal.timeout(3_000),
 * });
 * ```
 */
export async function httpText(
  url: string,
  init: RequestInit,
  options: HttpTextOptions = {},
): Promise<string> {
  const fetcher = options.fetch ?? globalThis.fetch;
  const max = options.maxBytes ?? 65_536;
  const method = init.method ?? "GET";
  const signal = options.signal;
  let response: Response;
  try {
    response = await fetcher(url, {
      ...init,
      redirect: "manual",
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    const reason = signal?.aborted && signal.reason instanceof Error
      ? signal.reason.message
      : (error as Error).message;
    throw new Error(`HTTP ${method} ${url} failed: ${reason}`, {
      cause: error,
    });
  }
  if (!(options.statuses ?? [200]).includes(response.status)) {
    await response.body?.cancel();
    throw new Error(`HTTP ${method} ${url} answered ${response.status}`);
  }
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        throw new RangeError(
          `HTTP ${method} ${url} answered more than ${max} bytes`,
        );
      }
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof RangeError) throw error;
    throw new Error(
      `HTTP ${method} ${url} failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
