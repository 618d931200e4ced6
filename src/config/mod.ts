/** knarr.toml: schema, defaults, loading and validation. */
export { ConfigError } from "./errors.ts";
export { formatHostPort, parseHostPort } from "./host_port.ts";
export {
  DEFAULT_BRIDGE_TIMEOUT_S,
  defaultConfig,
  loadConfig,
  parseConfig,
} from "./load.ts";
export type { ConfigOverrides } from "./load.ts";
export { DEFAULTS } from "./schema.ts";
export type {
  BridgeConfig,
  CockpitSection,
  HostPort,
  KnarrConfig,
  NetworkSection,
  NodeSection,
  PolicySection,
  RelaySection,
  SidecarSection,
  SkillConfig,
  Visibility,
} from "./schema.ts";
