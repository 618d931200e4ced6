import { join } from "node:path";
import { assertEquals } from "./assert.ts";
import { parseConfig } from "../src/config/mod.ts";
import {
  assetStoreFromConfig,
  ConfiguredSkills,
  KnarrNode,
} from "../src/node/mod.ts";

/** A provider serving one sandboxed skill file, and a consumer joined to it. */
async function sandboxedPair(
  name: string,
  source: string,
  toml: { node?: string; skill?: string; extra?: string } = {},
) {
  const dir = Deno.makeTempDirSync({ prefix: "knarr-sandbox-wire-" });
  Deno.mkdirSync(join(dir, "skills"));
  Deno.writeTextFileSync(join(dir, "skills", `${name}.ts`), source);
  const config = parseConfig(
    `[node]\nhost = "127.0.0.1"\nport = 0\nstorage = "node.db"\n${
      toml.node ?? ""
    }` +
      `${toml.extra ?? ""}[skills.${name}]\nhandler = "skills/${name}.ts"\n` +
      `description = "Test skill"\ntags = ["test"]\ninput_schema = { text = "string" }\n`,
    join(dir, "knarr.toml"),
  );
  const assets = assetStoreFromConfig(config);
  const skills = new ConfiguredSkills(config, assets);
  const provider = await KnarrNode.fromConfig(config, {
    runner: skills.runner(),
    assets,
  });
  await provider.start({ maintenance: false });
  const applied = await skills.apply(provider, config.skills);
  const consumer = await KnarrNode.create({ host: "127.0.0.1" });
  await consumer.start({ maintenance: false });
  await consumer.join([provider.address]);
  return {
    provider,
    consumer,
    applied,
    [Symbol.asyncDispose]: async () => {
      await consumer.close();
      await provider.close();
      await skills.close();
      await assets.close();
    },
  };
}

Deno.test("A sandboxed skill over the wire: output, TIMEOUT kills the Worker, then it serves again", async () => {
  await using pair = await sandboxedPair(
    "sometimes",
    `export async function handle(input: Record<string, unknown>) {
  if (input.hang) await new Promise(() => {});
  return { text: String(input.text) };
}
`,
  );
  const { consumer } = pair;
  assertEquals(pair.applied.loaded, ["sometimes"]);

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

Deno.test("A sandboxed skill runs task_slots calls at once; more wait in the queue and all complete, none refused", async () => {
  await using pair = await sandboxedPair(
    "slow",
    `export async function handle(input: Record<string, unknown>) {
  await new Promise((r) => setTimeout(r, 150));
  return { text: String(input.text) };
}
`,
    { node: "task_slots = 2\n", extra: "[policy]\ninitial_credit = 100\n" },
  );
  const { provider, consumer } = pair;
  // Warm the second Worker so the timing below is the queue's, not a cold start.
  await Promise.all(
    ["w1", "w2"].map((text) => consumer.request("slow", { text })),
  );
  let peakQueued = 0, peakLoad = 0;
  const watch = setInterval(() => {
    peakQueued = Math.max(peakQueued, provider.provider.queued);
    peakLoad = Math.max(peakLoad, provider.provider.load);
  }, 10);
  const texts = ["a", "b", "c", "d", "e", "f"];
  const outcomes = await Promise.all(
    texts.map((text) => consumer.request("slow", { text })),
  );
  clearInterval(watch);
  assertEquals(
    outcomes.map((o) => [o.status, o.output_data.text]),
    texts.map((t) => ["completed", t]),
  );
  assertEquals(peakLoad, 2);
  assertEquals(peakQueued >= 3, true, `peak queue ${peakQueued}`);
});
