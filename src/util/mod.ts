/** Leaf helpers: bytes, hex, logging, abortable sleep. */
export { bytesToHex, hexToBytes, isHex64, sha256Hex } from "./bytes.ts";
export { LOG_LEVELS, Logger, SILENT_LOGGER } from "./logger.ts";
export type { LoggerOptions, LogLevel, LogSink } from "./logger.ts";
export { sleep } from "./sleep.ts";
export { within, writeAll } from "./within.ts";
export type { Writer } from "./within.ts";
