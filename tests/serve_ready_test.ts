import { assertEquals } from "./assert.ts";
import { spawnKnarr } from "./cli_helpers.ts";
import { KnarrNode } from "../src/node/mod.ts";
import type { JsonObject, Message } from "../src/wire/mod.ts";

const ECHO = new URL("../skills/echo.ts", import.meta.url).pathname;

Deno.test("knarr serve answers only once its skills are loaded: a request sent as soon as the port is printed completes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "knarr-ready-" });
  await Deno.copyFile(ECHO, `${dir}/echo.ts`);
  await Deno.writeTextFile(
    `${dir}/knarr.toml`,
    `[node]\nport = 0\nhost = "127.0.0.1"\nstorage = "node.db"\n` +
      `[skills.echo]\nhandler = "echo.ts:handle"\ndescription = "Echo"\ntags = ["t"]\n` +
      `price = 0\ninput_schema = { text = "string" }\n`,
  );
  const child = spawnKnarr(["serve", "--config", "knarr.toml"], { cwd: dir });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/Listening: 127\.0\.0\.1:\d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited: ${text}`);
    text += value;
  }
  const port = Number(/Listening: 127\.0\.0\.1:(\d+)/.exec(text)![1]);
  // The Worker of echo.ts takes about half a second to start; ask at once.
  await using consumer = await KnarrNode.create({ host: "127.0.0.1" });
  await consumer.start({ maintenance: false });
  const replies = await Promise.all(
    [1, 2, 3].map(async (i) =>
      await consumer.sendMessage({ host: "127.0.0.1", port }, "TASK_REQUEST", {
        task_id: crypto.randomUUID(),
        requester_node_id: consumer.nodeId,
        requester_host: "127.0.0.1",
        requester_port: consumer.address.port,
        skill_name: "echo",
        input_data: { text: `early ${i}` },
        timeout_ms: 20_000,
      }, { timeoutMs: 20_000 }) as Message & { output_data: JsonObject }
    ),
  );
  assertEquals(
    replies.map((
      r,
    ) => [r.type, (r as { status?: string }).status, r.output_data.text]),
    [1, 2, 3].map((i) => ["TASK_RESULT", "completed", `early ${i}`]),
  );
  child.kill("SIGTERM");
  await child.status;
  await reader.cancel();
  await child.stderr.cancel();
  await Deno.remove(dir, { recursive: true });
});
