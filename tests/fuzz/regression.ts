/** Saved failing inputs: one JSON file per input in tests/fuzz/regressions/, replayed by the tests. */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import type { FuzzInput } from "./fuzz_target.ts";

/** A saved failing input. */
export interface Regression {
  /** The target it failed. */
  target: string;
  /** "crash" (a property failed) or "hang" (no answer within the watchdog's time). */
  kind: "crash" | "hang";
  /** The input bytes, base64. */
  input: string;
  /** The split points of the input. */
  cuts: number[];
  /** What went wrong when it was found. */
  error: string;
}

/** The folder of saved inputs. */
export const REGRESSIONS_DIR: URL = new URL("./regressions/", import.meta.url);

/** The input a regression replays. */
export function regressionInput(r: Regression): FuzzInput {
  return { data: decodeBase64(r.input), cuts: r.cuts };
}

/** Every saved regression, sorted by file name. */
export function readRegressions(): { file: string; regression: Regression }[] {
  const out: { file: string; regression: Regression }[] = [];
  for (const entry of Deno.readDirSync(REGRESSIONS_DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".json")) continue;
    const url = new URL(entry.name, REGRESSIONS_DIR);
    out.push({
      file: entry.name,
      regression: JSON.parse(Deno.readTextFileSync(url)) as Regression,
    });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Writes a regression file named after its target and input hash; returns its path. */
export async function saveRegression(
  target: string,
  kind: Regression["kind"],
  input: FuzzInput,
  error: string,
  dir: URL = REGRESSIONS_DIR,
): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", Uint8Array.from(input.data)),
  );
  const hash = Array.from(
    digest.subarray(0, 4),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const regression: Regression = {
    target,
    kind,
    input: encodeBase64(input.data),
    cuts: input.cuts,
    error: error.slice(0, 500),
  };
  await Deno.mkdir(dir, { recursive: true });
  const url = new URL(`${target}-${kind}-${hash}.json`, dir);
  await Deno.writeTextFile(url, JSON.stringify(regression, null, 2) + "\n");
  return url.pathname;
}
