/** Errors of the config layer. */

/** A configuration file or override that cannot be used; the message names file, key and fix. */
export class ConfigError extends Error {
  /** Dotted key that is wrong, e.g. "node.port" (empty for whole-file problems). */
  readonly key: string;
  /** Takes the config file, the dotted key (empty for the whole file), what is wrong, and error options. */
  constructor(
    file: string,
    key: string,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(
      key
        ? `Invalid config "${file}" at ${key}: ${problem}`
        : `Invalid config "${file}": ${problem}`,
      options,
    );
    this.name = "ConfigError";
    this.key = key;
  }
}
