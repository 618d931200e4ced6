/** `--log-format json` of `knarr serve` and `knarr relay`: one JSON object a line on stderr. */
import { join } from "node:path";
import { assert, assertEquals } from "./assert.ts";
import { knarr, serve, spawnKnarr } from "./cli_helpers.ts";

interface Record {
  time: string;
  level: string;
  component: string;
  message: string;
  fields: { [key: string]: unknown };
}

function records(stderr: string): Record[] {
  const lines = stderr.split("\n").filter((l) => l !== "");
  return lines.map((line) => {
    const r = JSON.parse(line) as Record;
    assertEquals(Object.keys(r), [
      "time",
      "level",
      "component",
      "message",
      "fields",
    ]);
    assert(!Number.isNaN(Date.parse(r.time)), line);
    return r;
  });
}

Deno.test("knarr serve --log-format json writes one record a line, with fields", async () => {
  const cwd = Deno.makeTempDirSync({ prefix: "knarr-logs-" });
  assertEquals((await knarr(["init", "p"], { cwd })).code, 0);
  const node = await serve(join(cwd, "p"), ["--log-format", "json"]);
  // A frame that is not a knarr message: dropped, counted and logged with its reason.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
  const body = new TextEncoder().encode("not json");
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  await conn.write(frame);
  await conn.read(new Uint8Array(16)).catch(() => null);
  conn.close();
  const { code, stderr } = await node.stop();
  assertEquals(code, 0);
  const logs = records(stderr);
  const dropped = logs.find((r) => r.message.startsWith("Dropped message"));
  assert(dropped, stderr);
  assertEquals(
    [dropped.level, dropped.component, dropped.fields.reason],
    ["warn", "knarr", "malformed"],
  );
  assert(
    logs.some((r) => r.message === "Shutting down: withdrawing skills"),
    stderr,
  );
});

Deno.test("knarr relay --log-format json writes one record a line; the default stays human", async () => {
  for (const format of ["json", "human"]) {
    const child = spawnKnarr([
      "relay",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...(format === "json" ? ["--log-format", "json"] : []),
    ]);
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let out = "";
    while (!out.includes("Relay key:")) out += (await reader.read()).value;
    child.kill("SIGTERM");
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    await reader.cancel();
    assertEquals(status.code, 0);
    if (format === "json") {
      const logs = records(stderr);
      assertEquals(logs.map((r) => [r.level, r.component]), [
        ["info", "relay"],
        ["info", "relay"],
      ]);
      assertEquals(logs[1]!.message, "Relay stopped");
    } else {
      assert(/Z INFO \[relay\] Relay stopped\n$/.test(stderr), stderr);
    }
  }
});
