import { assert, assertEquals } from "../../tests/assert.ts";
import { chooseAdvertiseHost, detectAddress, isPrivateAddress } from "./mod.ts";

Deno.test("isPrivateAddress() recognises private, loopback, link-local and CGNAT ranges", () => {
  for (
    const a of [
      "10.1.2.3",
      "127.0.0.1",
      "172.16.0.1",
      "172.31.255.1",
      "192.168.1.1",
      "169.254.1.1",
      "100.64.0.1",
      "::1",
      "fd00::1",
    ]
  ) {
    assert(isPrivateAddress(a), a);
  }
  for (
    const a of [
      "8.8.8.8",
      "172.32.0.1",
      "100.128.0.1",
      "192.0.2.10",
      "2001:db8::1",
    ]
  ) assert(!isPrivateAddress(a), a);
});

Deno.test("chooseAdvertiseHost() prefers explicit, then the bound host, then detection", () => {
  assertEquals(chooseAdvertiseHost("node.example", "0.0.0.0"), {
    host: "node.example",
    source: "explicit",
    isPrivate: false,
  });
  assertEquals(chooseAdvertiseHost(null, "127.0.0.1"), {
    host: "127.0.0.1",
    source: "bound",
    isPrivate: true,
  });
  const detected = chooseAdvertiseHost(null, "0.0.0.0");
  assertEquals(detected.source, "detected");
  assertEquals(detected.host, detectAddress());
  assert(/^\d+\.\d+\.\d+\.\d+$/.test(detected.host));
});
