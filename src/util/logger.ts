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

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** Lowest level written. Default "info". */
  level?: LogLevel;
  /** Line sink. Default: stderr. */
  sink?: LogSink;
  /** Component name prefixed to each line. */
  name?: string;
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
  /** Lowest level written. */
  readonly level: LogLevel;

  /** Takes the lowest level written, the line sink and a component name (defaults: "info", stderr, none). */
  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.#rank = RANK[this.level];
    this.#sink = options.sink ?? stderrSink;
    this.#prefix = options.name ? `[${options.name}] ` : "";
  }

  /** A logger for a sub-component with the same level and sink. */
  child(name: string): Logger {
    return new Logger({ level: this.level, sink: this.#sink, name });
  }

  /** True when records at `level` are written. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  /** Writes `message` at debug level; dropped unless `level` is "debug". */
  debug(message: string): void {
    this.#write("debug", message);
  }
  /** Writes `message` at info level, if enabled. */
  info(message: string): void {
    this.#write("info", message);
  }
  /** Writes `message` at warn level, if enabled. */
  warn(message: string): void {
    this.#write("warn", message);
  }
  /** Writes `message` at error level (always enabled). */
  error(message: string): void {
    this.#write("error", message);
  }

  #write(level: LogLevel, message: string): void {
    if (RANK[level] < this.#rank) return;
    this.#sink(
      `${
        new Date().toISOString()
      } ${level.toUpperCase()} ${this.#prefix}${message}`,
    );
  }
}

/** A logger that drops everything (library default). */
export const SILENT_LOGGER: Logger = new Logger({
  level: "error",
  sink: () => {},
});
