/**
 * Targets that fail on purpose, to test the long run's driver itself (its watchdog, its saving
 * and resuming); listed only when KNARR_FUZZ_SELFTEST names a folder for their markers.
 */
import fc from "fast-check";
import { existsSync } from "node:fs";
import { FuzzFailure, type FuzzTarget } from "../fuzz_target.ts";
import { whole } from "../mutate.ts";

/** True the first time in the whole run (across Workers): the marker file is made then. */
function firstTime(name: string): boolean {
  const marker = `${Deno.env.get("KNARR_FUZZ_SELFTEST")}/${name}`;
  if (existsSync(marker)) return false;
  Deno.writeTextFileSync(marker, "");
  return true;
}

const bytes = whole(fc.uint8Array({ minLength: 1, maxLength: 8 }));

/** The self-test targets. */
export const SELFTEST_TARGETS: readonly FuzzTarget[] = [
  {
    name: "selftest.sync-hang",
    about: "spins forever on its first input",
    input: () => bytes,
    open: () => ({
      check() {
        if (firstTime("sync-hang")) {
          for (;;) {
            /* a decoder stuck in a loop */
          }
        }
      },
    }),
  },
  {
    name: "selftest.async-hang",
    about: "never finishes its first input",
    input: () => bytes,
    open: () => ({
      check() {
        return firstTime("async-hang")
          ? new Promise<void>(() => {})
          : undefined;
      },
    }),
  },
  {
    name: "selftest.crash",
    about: "fails on inputs starting with a multiple of 16",
    input: () => bytes,
    open: () => ({
      check({ data }) {
        if (data[0]! % 16 === 0) throw new FuzzFailure(`first byte ${data[0]}`);
      },
    }),
  },
];
