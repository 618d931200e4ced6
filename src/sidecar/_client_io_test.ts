import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { assetListOf } from "./_client_io.ts";

const HASH = "ce61e6533018f8e382687fadba0276a3bcdffef2a95cfb4f3529f5a50f81677f";

Deno.test("assetListOf() copies a sidecar's asset list and refuses anything else", () => {
  const entry = {
    hash: HASH,
    size: 18,
    uploaded_at: 1700000000.5,
    access_count: 2,
  };
  assertEquals(
    assetListOf({ assets: [{ ...entry, extra: 1 }], total_size: 18 }),
    { assets: [entry], total_size: 18 },
  );
  // Found by the fuzzer (sidecar.client): list() returned whatever a 200 answer held, even
  // the `{error}` stand-in for a body that is not JSON.
  for (
    const body of [
      null,
      [],
      { error: "not json" },
      { assets: {}, total_size: 1 },
      { assets: [], total_size: -1 },
      { assets: [{ ...entry, hash: "x" }], total_size: 18 },
      { assets: [{ ...entry, size: 1.5 }], total_size: 18 },
      { assets: [null], total_size: 0 },
    ]
  ) {
    assertThrows(() => assetListOf(body), /Cannot list assets/);
  }
});
