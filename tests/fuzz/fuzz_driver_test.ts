/** The long run's driver, on targets that fail on purpose: hangs are caught, saved and skipped. */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import type { Regression } from "./regression.ts";

Deno.test("deno task fuzz catches a spinning and a stuck input, saves them and every crash, and goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-fuzz-selftest-" });
  try {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./fuzz.ts", import.meta.url).pathname,
        "--target",
        "selftest.sync-hang,selftest.async-hang,selftest.crash",
        "--inputs",
        "90",
        "--hang-ms",
        "1500",
        "--seed",
        "1",
        "--out",
        `${dir}/out`,
      ],
      env: { KNARR_FUZZ_SELFTEST: dir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assertEquals(code, 1, text);
    assertMatch(
      text,
      /HANG selftest\.sync-hang input #0: no answer within 1500 ms/,
    );
    assertMatch(text, /HANG selftest\.async-hang input #0/);
    // Every input was tried: the rest of a hung chunk went on in a new Worker.
    assertMatch(text, /\| selftest\.sync-hang +\| +30 \| +0 \| +1 \|/);
    assertMatch(text, /\| selftest\.async-hang +\| +30 \| +0 \| +1 \|/);
    assertMatch(text, /\| selftest\.crash +\| +30 \| +[1-9]\d* \| +0 \|/);
    const saved: Regression[] = [];
    for (const entry of Deno.readDirSync(`${dir}/out`)) {
      saved.push(JSON.parse(Deno.readTextFileSync(`${dir}/out/${entry.name}`)));
    }
    const kinds = saved.map((r) => `${r.target} ${r.kind}`).sort();
    assertEquals(kinds.filter((k) => k.endsWith("hang")), [
      "selftest.async-hang hang",
      "selftest.sync-hang hang",
    ]);
    assert(kinds.includes("selftest.crash crash"));
    // A crash is shrunk to its smallest form: one byte, 0.
    const crash = saved.find((r) => r.kind === "crash")!;
    assertEquals(crash.input, "AA==");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
