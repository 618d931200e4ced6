/** The only place that writes to the terminal: stdout for data, stderr for diagnostics. */

const encoder = new TextEncoder();

/** Line writers; tests capture them, the CLI writes to the process streams. */
export interface Output {
  /** Writes a line of data to stdout. */
  print(line: string): void;
  /** Writes a line to stderr. */
  error(line: string): void;
  /** Writes a value as indented JSON to stdout. */
  json(value: unknown): void;
  /** True when stdout is a terminal. */
  readonly isTerminal: boolean;
  /** True when stderr is a terminal: only then are progress lines drawn. */
  readonly progressEnabled: boolean;
  /** Redraws the progress line on stderr; null ends it with a newline. */
  progress(line: string | null): void;
}

function writeAll(
  stream: typeof Deno.stdout | typeof Deno.stderr,
  text: string,
): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) {
    offset += stream.writeSync(bytes.subarray(offset));
  }
}

/** Output bound to the process's stdout and stderr. */
export function processOutput(): Output {
  return {
    print: (line) => writeAll(Deno.stdout, line + "\n"),
    error: (line) => writeAll(Deno.stderr, line + "\n"),
    json: (value) =>
      writeAll(Deno.stdout, JSON.stringify(value, jsonReplacer, 2) + "\n"),
    isTerminal: Deno.stdout.isTerminal(),
    progressEnabled: Deno.stderr.isTerminal(),
    progress: (line) =>
      writeAll(Deno.stderr, line === null ? "\n" : `\r\x1b[2K${line}`),
  };
}

/** An Output that records lines, for tests and embedding; `progress: true` acts as a terminal. */
export function memoryOutput(options: { progress?: boolean } = {}): Output & {
  stdout: string[];
  stderr: string[];
  progressLines: string[];
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const progressLines: string[] = [];
  return {
    stdout,
    stderr,
    progressLines,
    progressEnabled: options.progress ?? false,
    progress: (line) => {
      if (line !== null) progressLines.push(line);
    },
    print: (line) => stdout.push(line),
    error: (line) => stderr.push(line),
    json: (value) => stdout.push(JSON.stringify(value, jsonReplacer, 2)),
    isTerminal: false,
  };
}

/** JSON.stringify replacer: bigints as numbers' text, lossless floats as their value. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (
    value !== null && typeof value === "object" && "value" in value &&
    value.constructor?.name === "JsonFloat"
  ) {
    return (value as { value: number }).value;
  }
  return value;
}

/** Pads columns to the width of their widest cell, two spaces apart. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
