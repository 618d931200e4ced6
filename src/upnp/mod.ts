/** UPnP IGD client: SSDP discovery, the gateway's WAN service, port mappings kept renewed. */
export {
  decodeEntities,
  elementText,
  findWanService,
  MAX_DESCRIPTION_BYTES,
} from "./device_description.ts";
export type { WanService } from "./device_description.ts";
export { UpnpActionError } from "./errors.ts";
export { MAX_DESCRIPTIONS_TRIED, UpnpGateway } from "./gateway.ts";
export type {
  ActionOptions,
  DiscoverOptions,
  GatewayDeps,
  PortMapping,
} from "./gateway.ts";
export {
  UPNP_DELETE_TIMEOUT_MS,
  UPNP_LEASE_SECONDS,
  UPNP_RENEW_INTERVAL_MS,
  UpnpPortMapper,
} from "./port_mapper.ts";
export type {
  MappedPort,
  PortMapperDeps,
  PortMapperOptions,
  PortMapperTimings,
} from "./port_mapper.ts";
export {
  buildSoapRequest,
  escapeXml,
  MAX_SOAP_RESPONSE_BYTES,
  parseSoapResponse,
} from "./soap.ts";
export type { SoapRequest } from "./soap.ts";
export {
  buildSearchRequest,
  IGD_SEARCH_TARGET,
  MAX_SSDP_RESPONSE_BYTES,
  parseSearchResponse,
  SSDP_ADDRESS,
} from "./ssdp.ts";
export type { SsdpResponse } from "./ssdp.ts";
