/** Leaf helpers: bytes, hex, logging, metrics, abortable sleep. */
export { bytesToHex, hexToBytes, isHex64, sha256Hex } from "./bytes.ts";
export { LOG_FORMATS, LOG_LEVELS, Logger, SILENT_LOGGER } from "./logger.ts";
export type {
  LogFields,
  LogFormat,
  LoggerOptions,
  LogLevel,
  LogSink,
} from "./logger.ts";
export {
  bucketQuantile,
  Counter,
  Gauge,
  Histogram,
  HistogramChild,
  LATENCY_BUCKETS_S,
  MetricFamily,
  ValueChild,
} from "./metrics.ts";
export { MetricsRegistry } from "./metrics_registry.ts";
export type { MetricType, Sample } from "./metrics.ts";
export { LogThrottle } from "./log_throttle.ts";
export type { LogThrottleOptions } from "./log_throttle.ts";
export { RateLimiter } from "./rate_limiter.ts";
export type { RateLimiterOptions } from "./rate_limiter.ts";
export { sleep } from "./sleep.ts";
export { within, writeAll } from "./within.ts";
export type { Writer } from "./within.ts";
