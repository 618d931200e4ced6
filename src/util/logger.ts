/** A small levelled logger writing one line per record to stderr. */

/** Log levels in increasing order of severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The accepted `--log-level` values. */
export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "warn",
  "error",
];

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where log lines go; tests pass an array sink. */
export type LogSink = (line: string) => void;

/** How records are written: "human" lines (default) or one JSON object a line. */
export type LogFormat = "human" | "json";

/** The accepted `--log-format` values. */
export const LOG_FORMATS: readonly LogFormat[] = ["human", "json"];

/** Structured details of a record (JSON values; written as `fields`). */
export type LogFields = Record<string, unknown>;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lowest level written. Default "info". */
  level?: LogLevel;
  /** Line sink. Default: stderr. */
  sink?: LogSink;
  /** Component name prefixed to each line (the `component` of JSON records). */
  name?: string;
  /** "human" (default) or "json": `{time, level, component, message, fields}` a line. */
  format?: LogFormat;
}

const encoder = new TextEncoder();

function stderrSink(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do with a log line
  }
}

/** Levelled logger; `child()` shares level and sink. */
export class Logger {
  #rank: number;
  #sink: LogSink;
  #prefix: string;
  #component: string;
  /** Lowest level written. */
  readonly level: LogLevel;
  /** How records are written. */
  readonly format: LogFormat;

  /** Takes the lowest level written, the line sink and a component name (defaults: "info", stderr, none). */
  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.#rank = RANK[this.level];
    this.#sink = options.sink ?? stderrSink;
    this.#prefix = options.name ? `[${options.name}] ` : "";
    this.#component = options.name ?? "knarr";
    this.format = options.format ?? "human";
  }

  /** A logger for a sub-component with the same level, format and sink. */
  child(name: string): Logger {
    return new Logger({
      level: this.level,
      sink: this.#sink,
      name,
      format: this.format,
    });
  }

  /** True when records at `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  /** Writes `message` at debug level; dropped unless `level` is "debug". */
  debug(message: string, fields?: LogFields): void {
    this.#write("debug", message, fields);
  }
  /** Writes `message` at info level, if enabled. */
  info(message: string, fields?: LogFields): void {
    this.#write("info", message, fields);
  }
  /** Writes `message` at warn level, if enabled. */
  warn(message: string, fields?: LogFields): void {
    this.#write("warn", message, fields);
  }
  /** Writes `message` at error level (always enabled). */
  error(message: string, fields?: LogFields): void {
    this.#write("error", message, fields);
  }

  #write(level: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[level] < this.#rank) return;
    const time = new Date().toISOString();
    if (this.format === "json") {
      this.#sink(jsonRecord(time, level, this.#component, message, fields));
      return;
    }
    // Human lines already say it all in the message; fields are for machines.
    this.#sink(`${time} ${level.toUpperCase()} ${this.#prefix}${message}`);
  }
}

function jsonRecord(
  time: string,
  level: LogLevel,
  component: string,
  message: string,
  fields: LogFields | undefined,
): string {
  const record = { time, level, component, message, fields: fields ?? {} };
  try {
    return JSON.stringify(record, jsonSafe);
  } catch {
    // A cyclic field: the record still goes out, without its fields.
    return JSON.stringify({ ...record, fields: {} });
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

/** A logger that drops everything (library default). */
export const SILENT_LOGGER: Logger = new Logger({
  level: "error",
  sink: () => {},
});
