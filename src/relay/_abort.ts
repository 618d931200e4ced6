/** Deadlines and abortable waits without stray timers (tests run with the op sanitizer). */

/** A signal with a time limit; dispose it to clear the timer. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
}

/** Aborts with a `TimeoutError` naming `what` after `ms` (none when Infinity), or when `parent` aborts. */
export function deadline(
  ms: number,
  what: string,
  parent?: AbortSignal,
): Deadline {
  const controller = new AbortController();
  const onParent = () => controller.abort(parent!.reason);
  const timer = Number.isFinite(ms)
    ? setTimeout(
      () =>
        controller.abort(
          new DOMException(`${what} timed out after ${ms} ms`, "TimeoutError"),
        ),
      ms,
    )
    : undefined;
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener("abort", onParent, { once: true });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", onParent);
    },
  };
}

/** Resolves like `promise`, or rejects with `signal.reason` as soon as it aborts. */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", onAbort)
    );
  });
}

export { sleep } from "../util/mod.ts";
