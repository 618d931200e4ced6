import { assertRejects, assertStrictEquals } from "../../tests/assert.ts";
import { bytesToHex } from "../util/mod.ts";
import { loadOrCreateIdentity } from "./key_file.ts";

Deno.test("loadOrCreateIdentity() creates a key once and loads it afterwards", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/agent.key`;
    const created = await loadOrCreateIdentity(path);
    const loaded = await loadOrCreateIdentity(path);
    assertStrictEquals(loaded.publicKey, created.publicKey);
    assertStrictEquals(
      (await Deno.readTextFile(path)).trim(),
      bytesToHex(created.seed),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadOrCreateIdentity() refuses a file that is not a hex seed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.key`, "not a key");
    await assertRejects(
      () => loadOrCreateIdentity(`${dir}/bad.key`),
      SyntaxError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
