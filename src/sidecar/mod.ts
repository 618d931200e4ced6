/**
 * The asset sidecar: HTTPS on its own port with a certificate made from the node key,
 * signed requests, streamed uploads and downloads, and the pinned client.
 *
 * @module
 */
export {
  certificateMatchesNode,
  createCertificate,
  loadOrCreateCertificate,
  parseCertificate,
} from "./certificate.ts";
export type {
  CertificateInfo,
  CreateCertificateOptions,
  SidecarCertificate,
} from "./certificate.ts";
export { CertificatePinError, SidecarHttpError } from "./errors.ts";
export {
  AUTH_WINDOW_SECONDS,
  RequestVerifier,
  signedString,
  signRequest,
} from "./request_auth.ts";
export type {
  AuthResult,
  RequestVerifierOptions,
  SignRequestOptions,
} from "./request_auth.ts";
export { SidecarClient } from "./sidecar_client.ts";
export type {
  ListedAsset,
  SidecarClientDeps,
  SidecarClientOptions,
  SidecarTarget,
  TransferOptions,
  UploadOutcome,
} from "./sidecar_client.ts";
export { SidecarServer } from "./sidecar_server.ts";
export type {
  SidecarServerDeps,
  SidecarServerOptions,
  SidecarStats,
} from "./sidecar_server.ts";
export { forgetPinnedCertificates } from "./_pinned_tls.ts";
