import { assertEquals } from "../../tests/assert.ts";
import { DEFAULTS } from "../config/mod.ts";
import { relayOptionsFromConfig } from "./relay_config.ts";

Deno.test("relayOptionsFromConfig() carries every [relay] key, seconds as milliseconds", () => {
  assertEquals(
    relayOptionsFromConfig({
      ...DEFAULTS.relay,
      keyFile: null,
      signReplies: false,
      heartbeatInterval: 0.5,
      bindIdentities: true,
      takeover: "any",
    }),
    {
      host: "0.0.0.0",
      port: 9009,
      version: "0.5.0",
      heartbeatIntervalMs: 500,
      maxConnections: 10_000,
      maxConnectionsPerIp: 1_000,
      rateLimit: 1_000,
      rateBurst: 2_000,
      maxQueue: 1_024,
      idleTimeoutMs: 30_000,
      writeTimeoutMs: 10_000,
      bindIdentities: true,
      takeover: "any",
      signReplies: false,
      maxQueueBytes: 8_388_608,
      maxQueueBytesTotal: 268_435_456,
    },
  );
});
