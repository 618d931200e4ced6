/**
 * The quick fuzz run of the normal tests: every target for a few hundred inputs (a fresh random
 * seed each run; FUZZ_SEED=n repeats one), then every saved failing input. A failure is shrunk
 * by fast-check and saved in tests/fuzz/regressions/, so it is replayed from then on.
 * The long run is `deno task fuzz`.
 */
import fc from "fast-check";
import { describeError, type FuzzInput } from "./fuzz_target.ts";
import { targetNamed, TARGETS } from "./registry.ts";
import {
  readRegressions,
  regressionInput,
  saveRegression,
} from "./regression.ts";

const INPUT_TIMEOUT_MS = 10_000;
const seedText = Deno.env.get("FUZZ_SEED");
const seed = seedText === undefined ? undefined : Number(seedText);

/** Runs one input with a deadline: an input that never finishes fails instead of hanging. */
async function withDeadline(
  work: void | Promise<void>,
  what: string,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`${what} did not finish within ${INPUT_TIMEOUT_MS} ms`),
            ),
          INPUT_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

for (const target of TARGETS) {
  const runs = target.quickRuns ?? 400;
  Deno.test(`fuzz ${target.name}: ${runs} inputs`, async () => {
    const check = await target.open();
    try {
      const details = await fc.check(
        fc.asyncProperty(
          target.input(),
          (input: FuzzInput) => withDeadline(check.check(input), target.name),
        ),
        { numRuns: runs, ...(seed === undefined ? {} : { seed }) },
      );
      if (!details.failed) return;
      const input = details.counterexample?.[0];
      const error = describeError(details.errorInstance);
      const saved = input
        ? await saveRegression(target.name, "crash", input, error)
        : "(no counterexample)";
      throw new Error(
        `${target.name} failed (seed ${details.seed}, path "${details.counterexamplePath}") on ${
          input?.data.length ?? 0
        } bytes, saved as ${saved}: ${error}`,
        { cause: details.errorInstance },
      );
    } finally {
      await check.close?.();
    }
  });
}

Deno.test("fuzz regressions: every saved failing input now passes", async (t) => {
  for (const { file, regression } of readRegressions()) {
    await t.step(file, async () => {
      const check = await targetNamed(regression.target).open();
      try {
        await withDeadline(
          check.check(regressionInput(regression)),
          `${regression.target} on ${file}`,
        ).catch((error) => {
          throw new Error(
            `${file} (first seen as: ${regression.error}) fails again: ${
              describeError(error)
            }`,
            { cause: error },
          );
        });
      } finally {
        await check.close?.();
      }
    });
  }
});
