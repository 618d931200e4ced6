/**
 * Regression tests for what `bench/hostile_peers.ts` found: each defect the benchmark exposed
 * under attack, reproduced small and fast.
 */
import { assert } from "./assert.ts";
import { Identity } from "../src/crypto/mod.ts";
import { SidecarClient } from "../src/sidecar/mod.ts";
import { startSidecar } from "./sidecar_helpers.ts";

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

Deno.test("SidecarClient requests do not wait for a delayed ACK (TCP_NODELAY under TLS)", async () => {
  await using sidecar = await startSidecar();
  const target = {
    nodeId: sidecar.node.nodeId,
    host: "127.0.0.1",
    port: sidecar.port,
  };
  const client = new SidecarClient({ identity: await Identity.generate() });
  // The first request pins the certificate (node:tls); the later ones take the fast path.
  const { hash } = await client.upload(target, new Uint8Array(100).fill(1));
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    // A key of its own: one key's requests for one path wait for the next second (replays).
    const fresh = new SidecarClient({ identity: await Identity.generate() });
    const started = performance.now();
    assert((await fresh.head(target, hash)) === 100);
    times.push(performance.now() - started);
  }
  // With Nagle's algorithm on, every request waited for the 40 ms delayed ACK.
  assert(median(times) < 30, `median ${median(times).toFixed(1)} ms`);
});
