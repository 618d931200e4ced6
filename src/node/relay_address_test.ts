import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  parseRelayedAddress,
  relayedAddress,
  relayIdentity,
} from "./relay_address.ts";

const ID = "0123456789abcdef".repeat(4);

Deno.test("relayedAddress() round-trips through parseRelayedAddress()", () => {
  for (
    const relay of [
      { host: "127.0.0.1", port: 9009 },
      { host: "relay.example.com", port: 1 },
      { host: "::1", port: 65535 },
    ]
  ) {
    const address = relayedAddress(ID, relay);
    assertEquals(address.port, relay.port);
    assertEquals(parseRelayedAddress(address), { relay, nodeId: ID });
  }
  assertEquals(relayIdentity(ID), `knarr:${ID}`);
});

Deno.test("parseRelayedAddress() leaves plain and malformed addresses alone", () => {
  for (
    const host of [
      "127.0.0.1",
      "relay.example.com",
      `relay.${ID}`,
      `relay.${ID}.`,
      `relay.${ID.toUpperCase()}.127.0.0.1`,
      `relay.${ID.slice(1)}.127.0.0.1`,
    ]
  ) {
    assertEquals(parseRelayedAddress({ host, port: 9009 }), null, host);
  }
  assertEquals(
    parseRelayedAddress({ host: `relay.${ID}.127.0.0.1`, port: 0 }),
    null,
  );
});

Deno.test("relayedAddress() refuses a node id that is not 64 hex digits", () => {
  assertThrows(
    () => relayedAddress("abc", { host: "127.0.0.1", port: 1 }),
    TypeError,
  );
  relayedAddress(ID, { host: "a".repeat(185), port: 1 });
  assertThrows(
    () => relayedAddress(ID, { host: "a".repeat(186), port: 1 }),
    RangeError,
  );
});
