/** `[cockpit]`: the operator's web page, its port and interface. */
import type { TableReader } from "./_check.ts";
import { DEFAULTS } from "./schema.ts";
import type { CockpitSection } from "./schema.ts";

/**
 * Reads the `[cockpit]` table. Without `port`, the cockpit listens on the protocol port
 * + 2 (any free port beside a node on any free port); `port = 0` (or `--cockpit-port 0`)
 * turns it off.
 */
export function readCockpit(
  cockpit: TableReader,
  protocolPort: number,
  override: number | undefined,
): CockpitSection {
  const configured = override ?? cockpit.int("port", -1, 0, 65535);
  const fallback = protocolPort === 0
    ? 0
    : protocolPort + 2 > 65535
    ? null
    : protocolPort + 2;
  return {
    port: configured === -1 ? fallback : configured === 0 ? null : configured,
    host: cockpit.string("host", DEFAULTS.cockpit.host, { min: 1, max: 256 }),
  };
}
