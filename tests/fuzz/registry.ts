/** Every fuzz target, by name. */
import type { FuzzTarget } from "./fuzz_target.ts";
import { CONFIG_TARGETS } from "./targets/config.ts";
import { DISCOVERY_TARGETS } from "./targets/discovery.ts";
import { MCP_TARGETS } from "./targets/mcp.ts";
import { NET_TARGETS } from "./targets/net.ts";
import { NODE_TARGETS } from "./targets/node.ts";
import { NODE_REPLIES_TARGETS } from "./targets/node_replies.ts";
import { RELAY_TARGETS } from "./targets/relay.ts";
import { SIDECAR_TARGETS } from "./targets/sidecar.ts";
import { SIDECAR_CLIENT_TARGETS } from "./targets/sidecar_client.ts";
import { SELFTEST_TARGETS } from "./targets/selftest.ts";
import { SKILLS_TARGETS } from "./targets/skills.ts";
import { UPNP_TARGETS } from "./targets/upnp.ts";
import { WIRE_TARGETS } from "./targets/wire.ts";

/** All targets, in the order runs report them. */
export const TARGETS: readonly FuzzTarget[] = [
  ...WIRE_TARGETS,
  ...NET_TARGETS,
  ...DISCOVERY_TARGETS,
  ...RELAY_TARGETS,
  ...SIDECAR_TARGETS,
  ...SIDECAR_CLIENT_TARGETS,
  ...CONFIG_TARGETS,
  ...SKILLS_TARGETS,
  ...MCP_TARGETS,
  ...UPNP_TARGETS,
  ...NODE_TARGETS,
  ...NODE_REPLIES_TARGETS,
  // Failing on purpose, for the driver's own test only.
  ...(Deno.env.get("KNARR_FUZZ_SELFTEST") ? SELFTEST_TARGETS : []),
];

/** The target of a name; throws a one-line error naming the known ones. */
export function targetNamed(name: string): FuzzTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    throw new TypeError(
      `Cannot find fuzz target "${name}": known targets are ${
        TARGETS.map((t) => t.name).join(", ")
      }`,
    );
  }
  return target;
}
