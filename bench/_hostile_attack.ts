/**
 * One attack of the hostile-peers benchmark, run as a process of its own so that the
 * attacker's work does not slow the honest consumer's event loop:
 *
 *   deno run -A bench/_hostile_attack.ts <attack> '<context JSON>'
 *
 * Prints one JSON line: `{ sent, rejected, note }`.
 */
import { NODE_ATTACKS } from "./_hostile_node_attacks.ts";
import type { AttackContext } from "./_hostile_node_attacks.ts";
import { FLOOD_ATTACKS } from "./_hostile_flood_attacks.ts";
import { HEAVY_ATTACKS } from "./_hostile_heavy_attacks.ts";
import { RELAY_ATTACKS } from "./_hostile_relay_attacks.ts";
import { SIDECAR_ATTACKS } from "./_hostile_sidecar_attacks.ts";

/** Every attack by name. */
export const ATTACKS = {
  ...NODE_ATTACKS,
  ...FLOOD_ATTACKS,
  ...HEAVY_ATTACKS,
  ...RELAY_ATTACKS,
  ...SIDECAR_ATTACKS,
};

if (import.meta.main) {
  const [name, context] = Deno.args;
  const attack = ATTACKS[name ?? ""];
  if (attack === undefined || context === undefined) {
    throw new Error(`Cannot run attack "${name}": unknown, or no context`);
  }
  const counts = await attack(JSON.parse(context) as AttackContext);
  await Deno.stdout.write(
    new TextEncoder().encode(JSON.stringify(counts) + "\n"),
  );
  // Sockets the attack left to the server to close must not keep this process alive.
  Deno.exit(0);
}
