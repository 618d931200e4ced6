/** `knarr request` with `@file` inputs and `--output-dir`, end to end through real processes and TLS. */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { knarr, knarrRequest, serve } from "./cli_helpers.ts";

const GZIP_SKILL = new URL("../skills/gzip.ts", import.meta.url).pathname;

/** A project serving skills/gzip.ts, and a caller directory beside it. */
async function gzipProject(): Promise<{ root: string; project: string }> {
  const root = await Deno.makeTempDir({ prefix: "knarr-sidecar-cli-" });
  const project = join(root, "provider");
  await Deno.mkdir(join(project, "skills"), { recursive: true });
  await Deno.copyFile(GZIP_SKILL, join(project, "skills", "gzip.ts"));
  await Deno.writeTextFile(
    join(project, "knarr.toml"),
    `[node]
storage = "node.db"

[skills.gzip]
handler = "skills/gzip.ts"
description = "Gzip-compresses a binary file"
tags = ["binary"]
input_schema = { file = "string" }
output_schema = { file = "string", bytes_in = "number", bytes_out = "number" }
`,
  );
  return { root, project };
}

/** `knarr request --skill gzip --input <input> --bootstrap 127.0.0.1:<port> …extra` in `cwd`. */
function requestGzip(
  cwd: string,
  port: number,
  input: string,
  extra: string[] = [],
) {
  return knarrRequest(port, "gzip", input, { cwd, extra });
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await new Response(
      new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
        new DecompressionStream("gzip"),
      ),
    ).arrayBuffer(),
  );
}

function photo(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let x = 12345;
  for (let i = 8; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    // Half noise, half runs: compressible, but not trivially.
    bytes[i] = i % 512 < 256 ? x >> 16 : 0;
  }
  return bytes;
}

Deno.test("knarr request uploads @file inputs, the skill transforms them, --output-dir downloads the result", async (t) => {
  const { root, project } = await gzipProject();
  const node = await serve(project);
  try {
    assert(node.sidecarPort > 0, node.lines.join("\n"));
    const input = photo(3 * 1024 * 1024 + 17);
    await Deno.writeFile(join(root, "photo.png"), input);

    await t.step("text output names the downloaded file", async () => {
      const r = await requestGzip(root, node.port, '{"file": "@photo.png"}', [
        "--output-dir",
        "out",
      ]);
      assertEquals([r.code, r.stderr], [0, ""]);
      const match =
        /^Downloaded: file -> (out\/file_[0-9a-f]{12}) \((\d+) bytes\)$/m
          .exec(r.stdout);
      assert(match, r.stdout);
      assertMatch(r.stdout, /^Status: completed$/m);
      assertMatch(r.stdout, new RegExp(`^  bytes_in: ${input.length}$`, "m"));
      const saved = await Deno.readFile(join(root, match[1]!));
      assertEquals(saved.length, Number(match[2]));
      assertEquals(await gunzip(saved), input);
      // The result JSON is saved beside it, as before.
      const names = [...Deno.readDirSync(join(root, "out"))].map((e) => e.name);
      assertEquals(names.filter((n) => n.endsWith(".json")).length, 1);
    });

    await t.step(
      "--json lists the downloads and prints no progress",
      async () => {
        const r = await requestGzip(
          root,
          node.port,
          '{"file": {"@file": "photo.png"}}',
          ["--output-dir", "out2", "--json"],
        );
        assertEquals([r.code, r.stderr], [0, ""]);
        const result = JSON.parse(r.stdout);
        assertEquals(result.status, "completed");
        assertEquals(result.downloaded.length, 1);
        assertEquals(result.downloaded[0].key, "file");
        const hash = /^knarr-asset:\/\/([0-9a-f]{64})$/.exec(
          result.output_data.file,
        )![1]!;
        const saved = await Deno.readFile(
          join(root, result.downloaded[0].path),
        );
        assertEquals(createHash("sha256").update(saved).digest("hex"), hash);
      },
    );

    await t.step(
      "the provider's asset directory holds the complete input and no partial file",
      () => {
        const inputHash = createHash("sha256").update(input).digest("hex");
        const stored = [...Deno.readDirSync(join(project, "assets"))]
          .filter((e) => e.isFile).map((e) => e.name);
        assert(stored.includes(inputHash));
        assertEquals(stored.filter((n) => !/^[0-9a-f]{64}$/.test(n)), []);
      },
    );

    await t.step("a missing @file is a usage error", async () => {
      const r = await requestGzip(root, node.port, '{"file": "@nope.png"}');
      assertEquals(r.code, 2);
      assertMatch(
        r.stderr,
        /Cannot read --input file "nope\.png" for "file": no such file/,
      );
    });
  } finally {
    const { code } = await node.stop();
    assertEquals(code, 0);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("knarr request with a file for a provider without a sidecar fails clearly", async () => {
  const { root, project } = await gzipProject();
  const node = await serve(project, ["--sidecar-port", "0"]);
  try {
    assertEquals(node.sidecarPort, 0);
    await Deno.writeFile(join(root, "photo.png"), photo(1000));
    const r = await requestGzip(root, node.port, '{"file": "@photo.png"}');
    assertEquals(r.code, 1);
    assertMatch(
      r.stdout,
      /^Error: ASSET_UPLOAD_FAILED — .*announces no asset sidecar/m,
    );
  } finally {
    await node.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("knarr serve says which port is taken when the sidecar cannot listen", async () => {
  const { root, project } = await gzipProject();
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const r = await knarr([
      "serve",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--sidecar-port",
      String(busy.addr.port),
    ], { cwd: project });
    assertEquals(r.code, 1);
    assertEquals(
      r.stderr.trim(),
      `error: Cannot listen for the asset sidecar on "127.0.0.1:${busy.addr.port}": address in use; stop the other process or choose another --sidecar-port`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
