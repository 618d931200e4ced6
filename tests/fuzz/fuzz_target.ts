/**
 * What a fuzz target is, and the checks every target shares: which errors count as a clean
 * refusal, and byte streams split at chosen points (as a peer's writes arrive).
 *
 * Every input is bytes plus cut points, so any input can be copied into shared memory before it
 * runs (the long run's watchdog saves the one that hangs) and written to a regression file.
 */
import type * as fc from "fast-check";

/** One fuzz input: the bytes, and where a stream of them is split into separate reads. */
export interface FuzzInput {
  /** The bytes the decoder is given. */
  data: Uint8Array;
  /** Split points (taken modulo the length + 1, sorted, duplicates dropped); ignored by whole-input targets. */
  cuts: number[];
}

/** The check of one target, opened once and run for many inputs. */
export interface FuzzCheck {
  /** Runs one input; throws {@linkcode FuzzFailure} (or anything) when a property fails. */
  check(input: FuzzInput): void | Promise<void>;
  /** Releases what `open` made (a node, a child process, a temp dir). */
  close?(): Promise<void>;
}

/** One decoder under fuzz. */
export interface FuzzTarget {
  /** `layer.decoder`, e.g. "wire.json". */
  name: string;
  /** One line: what is decoded and which properties are checked. */
  about: string;
  /** The inputs: mutations of the vectors, generated values, random bytes. */
  input(): fc.Arbitrary<FuzzInput>;
  /** Makes what the checks run against. */
  open(): FuzzCheck | Promise<FuzzCheck>;
  /** Inputs in the quick run of the normal tests. Default 400. */
  quickRuns?: number;
  /** Share of the long run's inputs, relative to the others' 1 (slow targets take less). Default 1. */
  longRunShare?: number;
}

/** A property of a target did not hold. */
export class FuzzFailure extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FuzzFailure";
  }
}

// Errors the engine raises by itself: a bug of ours, whatever class they come in.
const ENGINE_MESSAGES = [
  /^Cannot (read|set) propert/,
  /^Cannot (create|assign to read only|redefine) property/,
  /^Cannot destructure/,
  /^Cannot convert /,
  /^Cannot mix BigInt/,
  /is not (a function|iterable|a constructor|defined)/,
  /^(undefined|null) is not/,
  /Maximum call stack size exceeded/,
  /^Invalid (typed array|array|string) length/,
  /^Invalid (code point|time value|count value|DataView|regular expression)/,
  /offset is out of bounds/i,
  /out of memory/i,
  /Array buffer allocation failed/,
  /Do not know how to serialize a BigInt/,
  /^Reduce of empty array/,
  /^Division by zero/,
  /^Maximum BigInt size/,
  /^Start offset .* is outside the bounds/,
  /^Source is too large/,
  /^The number .* cannot be converted to a BigInt/,
];

type ErrorClass = abstract new (...args: never[]) => Error;

/** True when `error` is one of `allowed` and not an engine error dressed as one. */
export function isCleanError(
  error: unknown,
  allowed: readonly ErrorClass[],
): boolean {
  if (!(error instanceof Error)) return false;
  if (!allowed.some((kind) => error instanceof kind)) return false;
  return !ENGINE_MESSAGES.some((re) => re.test(error.message));
}

/** Passes a clean refusal; anything else becomes a {@linkcode FuzzFailure} naming `what`. */
export function expectClean(
  error: unknown,
  allowed: readonly ErrorClass[],
  what: string,
): void {
  if (isCleanError(error, allowed)) return;
  throw new FuzzFailure(`${what} threw ${describeError(error)}`, {
    cause: error,
  });
}

/** Runs `fn`; a clean refusal gives `undefined`, anything else a {@linkcode FuzzFailure}. */
export function attempt<T>(
  fn: () => T,
  allowed: readonly ErrorClass[],
  what: string,
): T | undefined {
  try {
    return fn();
  } catch (error) {
    expectClean(error, allowed, what);
    return undefined;
  }
}

/** As {@linkcode attempt}, for async work. */
export async function attemptAsync<T>(
  fn: () => Promise<T>,
  allowed: readonly ErrorClass[],
  what: string,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    expectClean(error, allowed, what);
    return undefined;
  }
}

/** Fails with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FuzzFailure(message);
}

/** `Name: message` of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `non-error ${typeof error}: ${String(error)}`;
}

/** The pieces `data` is delivered in: split at `cuts` (modulo length + 1, sorted, unique). */
export function pieces(
  data: Uint8Array,
  cuts: readonly number[],
): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))]
    .filter((c) => c > 0 && c < data.length)
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(data.subarray(from, c));
    from = c;
  }
  out.push(data.subarray(from));
  return out;
}

/** A byte source (the shape of a socket's `read`) serving each piece in separate reads. */
export function pieceSource(parts: readonly Uint8Array[]): {
  read(buffer: Uint8Array): Promise<number | null>;
} {
  let index = 0;
  let offset = 0;
  return {
    read(buffer) {
      while (index < parts.length && offset >= parts[index]!.length) {
        index++;
        offset = 0;
      }
      if (index >= parts.length) return Promise.resolve(null);
      const part = parts[index]!;
      const n = Math.min(buffer.length, part.length - offset);
      buffer.set(part.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** True when two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The text of bytes, invalid UTF-8 replaced. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
