/** The example skills in skills/, run through the sandbox as a node would. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { AssetStore } from "../src/assets/mod.ts";
import { SkillSandbox, type SkillSpec } from "../src/skills/mod.ts";

const RUN = { callerNodeId: "c".repeat(64), jobId: "bundled" };

/** A skill of skills/; its name is the file's, with "-" for "_" as config requires. */
function bundled(file: string, extra: Partial<SkillSpec> = {}): SkillSpec {
  return {
    name: file.replaceAll("_", "-"),
    handlerPath: new URL(`../skills/${file}.ts`, import.meta.url).pathname,
    handlerExport: "handle",
    net: [],
    read: [],
    ...extra,
  };
}

Deno.test("bundled skills run in the sandbox: echo, shout, word_count, http_get", async (t) => {
  const dir = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "knarr_bundled_" }),
  );
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response("x".repeat(5_000), {
        headers: { "content-type": "text/plain" },
      }),
  );
  try {
    await Deno.writeTextFile(`${dir}/poem.txt`, "one two three\nfour five\n");
    const assets = new AssetStore(`${dir}/assets`);
    await using sandbox = new SkillSandbox({ assets });
    await Promise.all([
      sandbox.load(bundled("echo")),
      sandbox.load(bundled("shout")),
      sandbox.load(bundled("word_count", { read: [`${dir}/poem.txt`] })),
      sandbox.load(
        bundled("http_get", { net: [`127.0.0.1:${server.addr.port}`] }),
      ),
    ]);

    await t.step("echo", async () => {
      assertEquals(await sandbox.run("echo", { text: "hello" }, RUN), {
        status: "ok",
        output: { text: "hello" },
      });
    });

    await t.step("shout calls echo through ctx.callLocal", async () => {
      assertEquals(await sandbox.run("shout", { text: "hello" }, RUN), {
        status: "ok",
        output: { text: "HELLO" },
      });
    });

    await t.step("word_count reads a declared file", async () => {
      assertEquals(
        await sandbox.run("word-count", { path: `${dir}/poem.txt` }, RUN),
        {
          status: "ok",
          output: { path: `${dir}/poem.txt`, lines: 2, words: 5, chars: 24 },
        },
      );
    });

    await t.step(
      "word_count reads an asset sent as knarr-asset://",
      async () => {
        const hash = await assets.put(new TextEncoder().encode("a b c"));
        const outcome = await sandbox.run("word-count", {
          path: `knarr-asset://${hash}`,
        }, RUN);
        assert(outcome.status === "ok", JSON.stringify(outcome));
        assertEquals(outcome.output.words, 3);
        assertMatch(
          String(outcome.output.path),
          new RegExp(`^${dir}/assets/\\.inbox/[^/]+/${hash}$`),
        );
      },
    );

    await t.step("word_count cannot read anything else", async () => {
      const outcome = await sandbox.run(
        "word-count",
        { path: "/etc/hostname" },
        RUN,
      );
      assert(outcome.status === "error");
      assertMatch(outcome.detail, /NotCapable/);
    });

    await t.step("http_get fetches from its declared host only", async () => {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const outcome = await sandbox.run("http-get", { url }, RUN);
      assert(outcome.status === "ok", JSON.stringify(outcome));
      assertEquals({
        ...outcome.output,
        body: String(outcome.output.body).length,
      }, {
        status: 200,
        content_type: "text/plain",
        body: 4_096,
        truncated: true,
      });
      const denied = await sandbox.run("http-get", {
        url: "http://example.com/",
      }, RUN);
      assert(denied.status === "error");
      assertMatch(denied.detail, /NotCapable/);
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
