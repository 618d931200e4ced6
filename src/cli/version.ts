/** The knarr version. */

/** Version printed by `knarr --version` and shown by the cockpit. */
export const VERSION = "0.1.0";
