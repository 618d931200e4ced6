import {
  assertEquals,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import { AssetStore } from "../assets/mod.ts";
import { AssetInbox } from "./_asset_inbox.ts";

async function tempStore() {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_inbox_" }),
  );
  return {
    store: new AssetStore(`${dir}/assets`),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("AssetInbox.stageRefs() links stored refs into the inbox and leaves the rest", async () => {
  await using temp = await tempStore();
  const { store } = temp;
  const hash = await store.put(new TextEncoder().encode("x"));
  const inbox = await AssetInbox.create(store);
  const unknown = `knarr-asset://${"f".repeat(64)}`;
  const staged = await inbox.stageRefs({
    a: `knarr-asset://${hash}`,
    b: `knarr-asset://${hash}`,
    unknown,
    n: 1,
  });
  assertEquals(staged, {
    a: `${inbox.dir}/${hash}`,
    b: `${inbox.dir}/${hash}`,
    unknown,
    n: 1,
  });
  const source = await Deno.stat(store.pathOf(hash));
  assertStrictEquals((await Deno.stat(`${inbox.dir}/${hash}`)).ino, source.ino);
  await inbox.clear();
  assertEquals([...Deno.readDirSync(inbox.dir)], []);
  assertStrictEquals(await Deno.readTextFile(store.pathOf(hash)), "x");
  await inbox.remove();
  await inbox.remove();
  await assertRejects(() => Deno.stat(inbox.dir), Deno.errors.NotFound);
});

Deno.test("AssetInbox.stage() rejects a malformed hash and returns null for a missing asset", async () => {
  await using temp = await tempStore();
  const inbox = await AssetInbox.create(temp.store);
  await assertRejects(() => inbox.stage("../x"), TypeError);
  assertStrictEquals(await inbox.stage("0".repeat(64)), null);
  await inbox.remove();
});

const SHM = "/dev/shm";
/** Whether /dev/shm and the temp directory differ, so `Deno.link` fails with EXDEV. */
const otherFileSystem = (() => {
  let probe: string | undefined;
  try {
    probe = Deno.makeTempDirSync({ prefix: "knarr_dev_" });
    return Deno.statSync(SHM).dev !== Deno.statSync(probe).dev;
  } catch {
    return false;
  } finally {
    if (probe !== undefined) Deno.removeSync(probe);
  }
})();

Deno.test({
  name: "AssetInbox.stage() copies when the asset is on another file system",
  ignore: !otherFileSystem,
  fn: async () => {
    await using temp = await tempStore();
    const elsewhere = await Deno.makeTempDir({ dir: SHM, prefix: "knarr_" });
    try {
      await Deno.writeTextFile(`${elsewhere}/a`, "copied");
      class SplitStore extends AssetStore {
        override get(): Promise<string | null> {
          return Promise.resolve(`${elsewhere}/a`);
        }
      }
      const inbox = await AssetInbox.create(new SplitStore(temp.store.dir));
      const hash = "a".repeat(64);
      assertStrictEquals(await inbox.stage(hash), `${inbox.dir}/${hash}`);
      assertStrictEquals(
        await Deno.readTextFile(`${inbox.dir}/${hash}`),
        "copied",
      );
      await inbox.remove();
    } finally {
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
});
