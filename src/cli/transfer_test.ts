import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { UsageError } from "./command.ts";
import { memoryOutput } from "./output.ts";
import {
  formatProgress,
  inputFiles,
  outputPath,
  PROGRESS_MIN_BYTES,
  progressMeter,
} from "./transfer.ts";

Deno.test("formatProgress() shows bytes, percent and rate", () => {
  assertEquals(
    formatProgress("Uploading photo.png", 12_000_000, 100_000_000, 1000),
    "Uploading photo.png  12.0 MB / 100.0 MB  12%  12.0 MB/s",
  );
  assertEquals(
    formatProgress("x", 5, 5, 0),
    "x  0.0 MB / 0.0 MB  100%  0.0 MB/s",
  );
});

Deno.test("progressMeter() draws only on a terminal, only past 1 MB, and ends its line", () => {
  const terminal = memoryOutput({ progress: true });
  const big = progressMeter(terminal, "Downloading file", { progress: true });
  big.options.onProgress!(PROGRESS_MIN_BYTES, 2 * PROGRESS_MIN_BYTES);
  big.options.onProgress!(2 * PROGRESS_MIN_BYTES, 2 * PROGRESS_MIN_BYTES);
  big.end();
  assertEquals(terminal.progressLines.length, 2);
  assertEquals(terminal.progressLines[1]!.includes("100%"), true);

  const small = memoryOutput({ progress: true });
  const meter = progressMeter(small, "Uploading a", { progress: true });
  meter.options.onProgress!(100, 100);
  meter.end();
  assertEquals(small.progressLines, []);

  const piped = memoryOutput();
  const quiet = progressMeter(piped, "Uploading b", { progress: true });
  assertEquals(quiet.options.onProgress, undefined);
  const json = progressMeter(terminal, "Uploading c", { progress: false });
  assertEquals(json.options.onProgress, undefined);
});

Deno.test("outputPath() scrubs the key and stays inside the directory", () => {
  const hash = "ab".repeat(32);
  assertEquals(outputPath("out", "file", hash), "out/file_abababababab");
  assertEquals(
    outputPath("out", "../../etc/passwd", hash),
    "out/.._.._etc_passwd_abababababab",
  );
  assertEquals(outputPath("out", "ä b/c", hash), "out/__b_c_abababababab");
  assertEquals(outputPath("out", "", hash), "out/output_abababababab");
});

Deno.test('inputFiles() finds @path and {"@file": path} values and refuses unreadable ones', () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/a.bin`, "data");
    Deno.writeTextFileSync(`${dir}/empty.bin`, "");
    const files = inputFiles({
      a: `@${dir}/a.bin`,
      b: { "@file": `${dir}/a.bin` },
      text: "plain",
      at: "@",
    });
    assertEquals([...files], [["a", `${dir}/a.bin`], ["b", `${dir}/a.bin`]]);
    assertThrows(
      () => inputFiles({ a: `@${dir}/missing` }),
      UsageError,
      "no such file",
    );
    assertThrows(() => inputFiles({ a: `@${dir}` }), UsageError, "not a file");
    assertThrows(
      () => inputFiles({ a: `@${dir}/empty.bin` }),
      UsageError,
      "it is empty",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
