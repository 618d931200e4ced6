/** Small pieces of the consumer's outcomes: failures, the provider's address, deadlines. */
import type { QueryResult } from "../discovery/mod.ts";
import type { TaskOutcome } from "./types.ts";

/** A failed outcome with an error code and message. */
export function fail(
  taskId: string,
  code: string,
  message: string,
): TaskOutcome {
  return {
    task_id: taskId,
    status: "failed",
    output_data: {},
    error: { code, message },
  };
}

/** The provider's addresses as an outcome reports them. */
export function whereOf(
  provider: QueryResult,
): NonNullable<TaskOutcome["provider"]> {
  return {
    node_id: provider.node_id,
    host: provider.host,
    port: provider.port,
    sidecar_port: provider.sidecar_port,
  };
}

/** The promise's value, or null once `ms` pass or `signal` aborts. */
export async function raceTimeout<T>(
  promise: Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  try {
    return await Promise.race([
      promise,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), Math.max(0, ms));
        onAbort = () => resolve(null);
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
