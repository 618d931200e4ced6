import { assert, assertEquals } from "../../../tests/assert.ts";
import { AnnounceTokens } from "./announce_tokens.ts";
import { ProviderStore } from "./provider_store.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { canonicalSkillKey, providerKey, tagKey } from "./skill_keys.ts";

const clock = {
  t: 1000,
  now() {
    return this.t;
  },
};

function record(key: string, nodeId: string) {
  return {
    key,
    skillKey: "s",
    nodeId,
    host: "h",
    port: 1,
    sidecarPort: 0,
    storedAt: clock.t,
    ttl: 1800,
  };
}

Deno.test("ProviderStore evicts the least recently used record past its maximum", () => {
  const store = new ProviderStore({ clock }, { maxRecords: 3 });
  store.put(record("k1", "a"));
  store.put(record("k2", "a"));
  store.put(record("k3", "a"));
  store.get("k1");
  store.put(record("k4", "a"));
  assertEquals(store.size, 3);
  assertEquals(store.get("k2"), []);
  assertEquals(store.get("k1").length, 1);
});

Deno.test("ProviderStore drops expired records and refreshes on put", () => {
  const store = new ProviderStore({ clock });
  store.put(record("k", "a"));
  clock.t += 1000;
  store.put(record("k", "b"));
  clock.t += 900;
  assertEquals(store.get("k").map((r) => r.nodeId), ["b"]);
});

Deno.test("AnnounceTokens accept this window and the previous one, for the same address only", () => {
  const tokens = new AnnounceTokens({ clock, secret: new Uint8Array(32) });
  const token = tokens.issue("n@1.2.3.4");
  assert(tokens.check("n@1.2.3.4", token));
  assert(!tokens.check("n@1.2.3.5", token));
  clock.t += 300;
  assert(tokens.check("n@1.2.3.4", token));
  clock.t += 300;
  assert(!tokens.check("n@1.2.3.4", token));
});

Deno.test("RateLimiter allows the limit per window per peer", () => {
  const limiter = new RateLimiter({ clock }, { limit: 10 });
  const results = Array.from({ length: 12 }, () => limiter.allow("p"));
  assertEquals(results.filter(Boolean).length, 10);
  assert(limiter.allow("q"));
  clock.t += 61;
  assert(limiter.allow("p"));
});

Deno.test("providerKey() hashes the canonical key; tagKey() hashes tag:<tag>", async () => {
  assertEquals(canonicalSkillKey("  Echo//"), "echo");
  assertEquals(await providerKey(" ECHO/"), await providerKey("echo"));
  assertEquals(
    await providerKey("echo"),
    "092c79e8f80e559e404bcf660c48f3522b67aba9ff1484b0367e1a4ddef7431d",
  );
  assertEquals(await tagKey("Text"), await providerKey("tag:text"));
});
