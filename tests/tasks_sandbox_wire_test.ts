import { join } from "node:path";
import { assertEquals } from "./assert.ts";
import { parseConfig } from "../src/config/mod.ts";
import {
  assetStoreFromConfig,
  ConfiguredSkills,
  KnarrNode,
} from "../src/node/mod.ts";

Deno.test("A sandboxed skill over the wire: output, TIMEOUT kills the Worker, then it serves again", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-sandbox-wire-" });
  Deno.mkdirSync(join(dir, "skills"));
  Deno.writeTextFileSync(
    join(dir, "skills", "sometimes.ts"),
    `export async function handle(input: Record<string, unknown>) {
  if (input.hang) await new Promise(() => {});
  return { text: String(input.text) };
}
`,
  );
  const config = parseConfig(
    `[node]\nhost = "127.0.0.1"\nport = 0\nstorage = "node.db"\n` +
      `[skills.sometimes]\nhandler = "skills/sometimes.ts"\ndescription = "May hang"\ntags = ["test"]\n` +
      `input_schema = { text = "string" }\n`,
    join(dir, "knarr.toml"),
  );
  await using assets = assetStoreFromConfig(config);
  await using skills = new ConfiguredSkills(config, assets);
  await using provider = await KnarrNode.fromConfig(config, {
    runner: skills.runner(),
    assets,
  });
  await provider.start({ maintenance: false });
  const applied = await skills.apply(provider, config.skills);
  assertEquals(applied.loaded, ["sometimes"]);
  await using consumer = await KnarrNode.create({ host: "127.0.0.1" });
  await consumer.start({ maintenance: false });
  await consumer.join([provider.address]);

  const ok = await consumer.request("sometimes", { text: "a" });
  assertEquals([ok.status, ok.output_data], ["completed", { text: "a" }]);
  const hung = await consumer.request("sometimes", { text: "b", hang: true }, {
    timeoutMs: 1500,
  });
  assertEquals(hung.error, { code: "TIMEOUT", message: "Task timed out" });
  const again = await consumer.request("sometimes", { text: "c" }, {
    timeoutMs: 10_000,
  });
  assertEquals([again.status, again.output_data], ["completed", { text: "c" }]);
});
