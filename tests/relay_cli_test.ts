/** `knarr relay` as a black box: a real process, real sockets, signals and exit codes. */
import { Identity } from "../src/crypto/mod.ts";
import { decodePacket, verifyPacket } from "../src/relay/mod.ts";
import { bytesToHex, hexToBytes } from "../src/util/mod.ts";
import { assertMatch, assertStrictEquals } from "./assert.ts";
import { RawPeer } from "./relay_helpers.ts";
import { V1, vectorFrame } from "./relay_vectors.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

function spawnRelay(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "relay", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

/** Reads stdout until `count` lines arrived; returns them and the rest of the stream as a promise. */
async function readLines(
  child: Deno.ChildProcess,
  count: number,
): Promise<{ lines: string[]; rest: Promise<string> }> {
  const reader = child.stdout.getReader();
  let text = "";
  while (text.split("\n").length <= count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const rest = (async () => {
    let tail = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return tail;
      tail += decoder.decode(value, { stream: true });
    }
  })();
  return { lines: text.split("\n").slice(0, count), rest };
}

/** A `knarr relay --config <config> --port 0` process, once it printed its port and key. */
interface StartedRelay {
  child: Deno.ChildProcess;
  port: number;
  key: string;
  /** The rest of stdout and all of stderr, read to the end. */
  rest: Promise<string>;
  stderr: Promise<string>;
}

async function startRelayCli(config: string): Promise<StartedRelay> {
  const child = spawnRelay([
    "--config",
    config,
    "--port",
    "0",
    "--log-level",
    "warn",
  ]);
  const stderr = new Response(child.stderr).text();
  const { lines, rest } = await readLines(child, 2);
  const listening = /^Relay listening: 127\.0\.0\.1:(\d+)$/.exec(lines[0]!);
  const keyLine = /^Relay key: ([0-9a-f]{64})$/.exec(lines[1]!);
  if (!listening || !keyLine) {
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`Unexpected output: ${JSON.stringify(lines)}`);
  }
  return { child, port: Number(listening[1]), key: keyLine[1]!, rest, stderr };
}

Deno.test("knarr relay serves the V1 vector with a signed reply and stops cleanly on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/knarr.toml`;
    await Deno.writeTextFile(
      config,
      '[relay]\nhost = "127.0.0.1"\nport = 9009\nversion = "7.7.7"\n',
    );
    const { child, port, key, rest, stderr } = await startRelayCli(config);
    try {
      using peer = await RawPeer.connect(port);
      await peer.write(vectorFrame(V1));
      const frame = await peer.readFrame();
      const unsigned = hexToBytes(V1.replyFrameHex).subarray(4);
      // [length] 0a40 <signature> 1220 <relay key> <the spec's reply bytes>
      assertStrictEquals(
        bytesToHex(frame.subarray(0, 6)),
        (unsigned.length + 100).toString(16).padStart(8, "0") + "0a40",
      );
      assertStrictEquals(bytesToHex(frame.subarray(70, 104)), "1220" + key);
      assertStrictEquals(bytesToHex(frame.subarray(104)), bytesToHex(unsigned));
      assertStrictEquals(
        await verifyPacket(decodePacket(frame.subarray(4))),
        "valid",
      );

      await peer.send(await Identity.generate(), { dst: "discover:info" });
      assertMatch(
        (await peer.readPacket()).body,
        /^\{"agents_online":1,"uptime_sec":\d+,"version":"7\.7\.7"\}$/,
      );
    } finally {
      child.kill("SIGTERM");
    }
    const status = await child.status;
    assertStrictEquals(status.code, 0);
    assertStrictEquals(await rest, "");
    assertStrictEquals(await stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knarr relay reports a port in use in one line and exits 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "relay",
        "--host",
        "127.0.0.1",
        "--port",
        String(taken.addr.port),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertStrictEquals(output.code, 1);
    assertStrictEquals(decoder.decode(output.stdout), "");
    assertStrictEquals(
      decoder.decode(output.stderr),
      `error: Cannot listen on "127.0.0.1:${taken.addr.port}": address in use; pick another --port\n`,
    );
  } finally {
    taken.close();
  }
});

Deno.test("knarr relay rejects a bad --port as a usage error", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "relay", "--port", "70000"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertStrictEquals(output.code, 2);
  assertStrictEquals(decoder.decode(output.stdout), "");
  assertMatch(
    decoder.decode(output.stderr),
    /^error: Invalid --port "70000": must be an integer from 0 to 65535\n/,
  );
});

Deno.test("knarr relay with sign_replies = false answers the spec's exact frame and keeps its key_file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/knarr.toml`;
    await Deno.writeTextFile(
      config,
      '[relay]\nhost = "127.0.0.1"\nsign_replies = false\nkey_file = "relay.key"\n',
    );
    const keys: string[] = [];
    for (let run = 0; run < 2; run++) {
      const { child, port, key, rest, stderr } = await startRelayCli(config);
      keys.push(key);
      try {
        using peer = await RawPeer.connect(port);
        await peer.write(vectorFrame(V1));
        assertStrictEquals(
          bytesToHex(await peer.readFrame()),
          V1.replyFrameHex,
        );
      } finally {
        child.kill("SIGTERM");
      }
      assertStrictEquals((await child.status).code, 0);
      await rest;
      await stderr;
    }
    assertStrictEquals(keys[0], keys[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("knarr serve also runs the relay when [relay] enabled = true", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/knarr.toml`,
      '[node]\nhost = "127.0.0.1"\nport = 0\n[relay]\nenabled = true\nhost = "127.0.0.1"\nport = 0\nsign_replies = false\n',
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve", "--log-level", "warn"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // Node ID, Listening, Sidecar, Cockpit, Advertising, Relay listening.
    const { lines, rest } = await readLines(child, 6);
    const relayLine = lines.find((l) => l.startsWith("Relay listening: "));
    try {
      const port = Number(
        /^Relay listening: 127\.0\.0\.1:(\d+)$/.exec(relayLine ?? "")![1],
      );
      using peer = await RawPeer.connect(port);
      await peer.write(vectorFrame(V1));
      assertStrictEquals(bytesToHex(await peer.readFrame()), V1.replyFrameHex);
    } finally {
      child.kill("SIGTERM");
    }
    assertStrictEquals((await child.status).code, 0);
    await rest;
    await stderr;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
