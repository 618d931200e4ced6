/**
 * The operator's cockpit: a live web page (server-rendered HTML, server-sent events, an
 * SVG chart), the actions an operator needs (disable a skill, drop a peer, delete an
 * asset) and `/metrics`, behind a token. It reads everything through
 * {@linkcode CockpitSource}, which the node implements.
 *
 * @module
 */
export { CockpitServer } from "./cockpit_server.ts";
export type { CockpitServerOptions } from "./cockpit_server.ts";
export { constantTimeEqual } from "./_auth.ts";
export { escapeHtml } from "./_html.ts";
export type {
  AddressView,
  AssetsView,
  CockpitSource,
  DemandView,
  KnownSkillView,
  LedgerView,
  NodeView,
  OwnSkillView,
  PeerView,
  RelayView,
  ReputationView,
  SeriesPointView,
  TaskView,
} from "./types.ts";
