/** Errors of the sidecar client that callers branch on. */

/** A sidecar's certificate key does not hash to the node id we expected. */
export class CertificatePinError extends Error {
  /** The node id we expected. */
  readonly nodeId: string;
  /** `host:port` of the sidecar. */
  readonly address: string;
  /** Takes the expected node id and the sidecar's address. */
  constructor(nodeId: string, address: string) {
    super(
      `Cannot trust sidecar at "${address}": its certificate is not signed by node "${
        nodeId.slice(0, 16)
      }…" (a man in the middle, or the wrong address for that node)`,
    );
    this.name = "CertificatePinError";
    this.nodeId = nodeId;
    this.address = address;
  }
}

/** A sidecar answered with an error status. */
export class SidecarHttpError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The `error` member of the JSON body, or the raw body text. */
  readonly detail: string;
  /** Takes the failed action, the status and the detail. */
  constructor(action: string, status: number, detail: string) {
    super(
      `Cannot ${action}: sidecar answered ${status}${
        detail ? ` (${detail})` : ""
      }`,
    );
    this.name = "SidecarHttpError";
    this.status = status;
    this.detail = detail;
  }
}
