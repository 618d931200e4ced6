/** TCP transport for every protocol: framing, framed connections, the listener and outbound connections. */
export { connect, dial, localAddressToward, withDeadline } from "./dial.ts";
export type { ConnectOptions, DialOptions } from "./dial.ts";
export { NetTimeoutError } from "./errors.ts";
export {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameReader,
} from "./frame_reader.ts";
export type {
  ByteSource,
  FrameLimits,
  FrameReaderOptions,
} from "./frame_reader.ts";
export { FrameConnection } from "./frame_connection.ts";
export type {
  FrameCallback,
  FrameConnectionOptions,
} from "./frame_connection.ts";
export { formatAddress } from "./connection_limits.ts";
export type {
  CloseKind,
  ConnectionLimits,
  ReadEnd,
  RemoteAddress,
} from "./connection_limits.ts";
export { QueueBudget } from "./queue_budget.ts";
export { TcpServer } from "./tcp_server.ts";
export type {
  ConnectionHandler,
  TcpServerOptions,
  TcpServerStats,
} from "./tcp_server.ts";
export { datagramExchange } from "./datagram.ts";
export type { Datagram, DatagramExchangeOptions } from "./datagram.ts";
export { httpText } from "./http_text.ts";
export type { HttpTextOptions } from "./http_text.ts";
