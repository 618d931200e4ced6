import { defaultConfig } from "../config/mod.ts";
import type { HostPort, KnarrConfig } from "../config/mod.ts";
import { KnarrNode, TcpTransport } from "../node/mod.ts";
import type { Transport } from "../node/mod.ts";
import { RelayServer } from "../relay/mod.ts";
import { SILENT_LOGGER } from "../util/mod.ts";
import { assert, assertEquals } from "../../tests/assert.ts";
import { ServeRelay } from "./_relay_reach.ts";

/** Dials out over TCP; `listen()` binds nothing and reports a port where nothing listens. */
function inboundClosed(): Transport {
  const tcp = new TcpTransport();
  return {
    exchange: (to, body, options) => tcp.exchange(to, body, options),
    listen: (host) => {
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const { port } = probe.addr as Deno.NetAddr;
      probe.close();
      return Promise.resolve({ host, port, close: () => Promise.resolve() });
    },
  };
}

function config(bootstrap: HostPort, relay: HostPort): KnarrConfig {
  const base = defaultConfig(Deno.cwd());
  return {
    ...base,
    network: {
      ...base.network,
      bootstrap: [bootstrap],
      relay,
      relayWhen: "unreachable",
    },
  };
}

Deno.test("ServeRelay.startIfUnreachable() relays only a node its peer cannot dial back", async (t) => {
  await using relay = await RelayServer.start({}, {
    host: "127.0.0.1",
    port: 0,
  });
  const relayAddress = { host: relay.host, port: relay.port };
  await using hub = await KnarrNode.create({ host: "127.0.0.1" });
  await hub.start({ maintenance: false });

  for (const closed of [false, true]) {
    await t.step(
      closed ? "unreachable: relayed" : "reachable: direct",
      async () => {
        await using node = await KnarrNode.create({
          host: "127.0.0.1",
          ...(closed ? { transport: inboundClosed() } : {}),
        });
        await node.start({ maintenance: false });
        const direct = node.address;
        const printed: string[] = [];
        await using relayed = new ServeRelay({
          node,
          log: SILENT_LOGGER,
          print: (line) => printed.push(line),
        }, config(hub.address, relayAddress));
        relayed.startIfAlways(); // relay_when = "unreachable": nothing yet
        assertEquals(node.address, direct);
        const outcome = await node.join([hub.address]);
        await relayed.startIfUnreachable({
          via: outcome.via,
          upnpMapped: false,
        });
        if (!closed) {
          assertEquals([node.address, printed], [direct, []]);
          return;
        }
        assert(node.address.host.startsWith(`relay.${node.nodeId}.`));
        assertEquals(node.address.port, relay.port);
        assertEquals(printed, [
          `Relayed address: ${node.address.host}:${node.address.port}`,
        ]);
        // The re-join told the hub the new address.
        const seen = hub.discovery.peers.get(node.nodeId)!;
        assertEquals({ host: seen.host, port: seen.port }, node.address);
      },
    );
  }
});
