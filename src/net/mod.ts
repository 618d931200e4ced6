/** TCP transport: framed connections, the listener and outbound dialing. */
export { dial, localAddressToward, withDeadline } from "./dial.ts";
export type { DialOptions } from "./dial.ts";
export { NetTimeoutError } from "./errors.ts";
export { FrameConnection } from "./frame_connection.ts";
export type {
  FrameConnectionOptions,
  RemoteAddress,
} from "./frame_connection.ts";
export { TcpServer } from "./tcp_server.ts";
export type {
  ConnectionHandler,
  TcpServerOptions,
  TcpServerStats,
} from "./tcp_server.ts";
