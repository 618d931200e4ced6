/** Errors callers of the UPnP layer branch on. */

/** A gateway refused a SOAP action with a UPnP error (e.g. 718 ConflictInMappingEntry). */
export class UpnpActionError extends Error {
  /** The UPnP error code, or 0 when the fault carried none. */
  readonly code: number;

  /** Takes the action, the UPnP error code and its description. */
  constructor(action: string, code: number, description: string) {
    super(
      `Gateway refused ${action}: UPnP error ${code}${
        description ? ` ${description}` : ""
      }`,
    );
    this.name = "UpnpActionError";
    this.code = code;
  }
}
