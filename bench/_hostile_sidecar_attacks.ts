/** The hostile-peers benchmark's attacks on the asset sidecar of `knarr serve`. */
import { createHash, randomBytes } from "node:crypto";
import { Identity } from "../src/crypto/mod.ts";
import { signRequest } from "../src/sidecar/mod.ts";
import { loops, RawConn, sources } from "./_hostile_raw.ts";
import type { AttackCounts } from "./_hostile_raw.ts";
import { LINGER_MS, Pacer } from "./_hostile_node_attacks.ts";
import type { AttackContext } from "./_hostile_node_attacks.ts";

async function putHead(size: number, hash: string): Promise<string> {
  const headers = await signRequest(
    await Identity.generate(),
    "PUT",
    "/assets",
    {
      contentHash: hash,
    },
  );
  let head = "PUT /assets HTTP/1.1\r\n";
  for (const [name, value] of Object.entries(headers)) {
    head += `${name}: ${value}\r\n`;
  }
  return head + `Content-Length: ${size}\r\n\r\n`;
}

function statusOf(text: string): string {
  return /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? "none";
}

/**
 * Uploads that trickle: 300 connections from 30 addresses, each a signed PUT of 1 MiB sending
 * a byte every 2 s, opened again when the server ends it.
 */
async function slowUploads(ctx: AttackContext): Promise<AttackCounts> {
  const until = performance.now() + ctx.seconds * 1000;
  const addresses = sources(5, 30);
  const TOTAL = 300;
  let started = 0;
  let ended = 0;
  let failedConnect = 0;
  let maxOpen = 0;
  let open = 0;
  const statuses = new Map<string, number>();
  const lifetimes: number[] = [];
  await Promise.all(Array.from({ length: TOTAL }, async (_, k) => {
    await new Promise((r) => setTimeout(r, (k * 2000) / TOTAL));
    while (performance.now() < until) {
      let conn: RawConn;
      try {
        conn = await RawConn.openTls(
          ctx.host,
          ctx.port,
          addresses[k % addresses.length],
        );
      } catch {
        failedConnect++;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      started++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      conn.write(await putHead(1_048_576, "a".repeat(64)));
      while (!conn.closed && performance.now() < until) {
        await conn.waitClosed(Math.min(2_000, until - performance.now()));
        if (!conn.closed && performance.now() < until) conn.write("z");
      }
      // The attack is over: the server must still end what it holds (minimum upload rate).
      if (!conn.closed) await conn.waitClosed(LINGER_MS);
      open--;
      if (conn.closedByPeer) {
        ended++;
        lifetimes.push(conn.closedAt - conn.openedAt);
        const status = statusOf(conn.text());
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      conn.destroy();
      if (performance.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }));
  lifetimes.sort((a, b) => a - b);
  const median = lifetimes[lifetimes.length >> 1] ?? NaN;
  return {
    sent: started,
    rejected: ended,
    note:
      `signed 1 MiB PUTs sending a byte every 2 s from 30 addresses (rejected = ended by the ` +
      `server: ${
        [...statuses].map(([s, n]) => `${n}× ${s}`).join(", ") || "none"
      }); at most ` +
      `${maxOpen} open at once; median life ${
        (median / 1000).toFixed(1)
      } s; TLS connects that ` +
      `failed ${failedConnect}; ${
        started - ended
      } still open 12 s after the end`,
  };
}

/** Uploads of random 256 KiB assets, each under a fresh key, until past the quota. */
async function quotaExhaustion(ctx: AttackContext): Promise<AttackCounts> {
  const pacer = new Pacer(ctx.rate);
  let sent = 0;
  let refused = 0;
  const statuses = new Map<string, number>();
  await loops(4, performance.now() + ctx.seconds * 1000, async () => {
    await pacer.take();
    const body = new Uint8Array(randomBytes(256 * 1024));
    const hash = createHash("sha256").update(body).digest("hex");
    let conn: RawConn;
    try {
      conn = await RawConn.openTls(ctx.host, ctx.port, "127.0.0.91");
    } catch {
      statuses.set("connect failed", (statuses.get("connect failed") ?? 0) + 1);
      return;
    }
    try {
      conn.write(await putHead(body.length, hash));
      conn.write(body);
      sent++;
      const text = await conn.waitText(/\r\n\r\n[^]*\}/, 10_000);
      const status = statusOf(text);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status !== "200") refused++;
    } finally {
      conn.destroy();
    }
  });
  return {
    sent,
    rejected: refused,
    note:
      `signed 256 KiB uploads of random bytes, a fresh key each (rejected = not stored: ${
        [...statuses].map(([s, n]) => `${n}× ${s}`).join(", ")
      })`,
  };
}

/**
 * Signed requests as fast as TLS allows from 16 addresses, each valid and so remembered
 * against replay: half stamped now, half a minute ahead (the longest a signature must then be
 * remembered). The node's replay memory is small in the benchmark's configuration
 * (`[sidecar] replay_memory`) so that this fills it within seconds.
 */
async function signedFlood(ctx: AttackContext): Promise<AttackCounts> {
  const addresses = sources(7, 16);
  const keys = await Promise.all(
    Array.from({ length: 48 }, () => Identity.generate()),
  );
  const statuses = new Map<string, number>();
  let sent = 0;
  let failedConnect = 0;
  await loops(48, performance.now() + ctx.seconds * 1000, async (loop) => {
    const identity = keys[loop % keys.length]!;
    const future = loop % 2 === 1;
    let conn: RawConn;
    try {
      conn = await RawConn.openTls(
        ctx.host,
        ctx.port,
        addresses[loop % addresses.length],
      );
    } catch {
      failedConnect++;
      await new Promise((r) => setTimeout(r, 50));
      return;
    }
    try {
      const path = `/assets/${randomBytes(32).toString("hex")}`;
      const headers = await signRequest(identity, "HEAD", path, {
        timestamp: Math.floor(Date.now() / 1000) + (future ? 60 : 0),
      });
      let head = `HEAD ${path} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(headers)) {
        head += `${name}: ${value}\r\n`;
      }
      conn.write(head + "\r\n");
      sent++;
      const status = statusOf(await conn.waitText(/\r\n\r\n/, 5_000));
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    } finally {
      conn.destroy();
    }
  });
  const refused = statuses.get("401") ?? 0;
  return {
    sent,
    rejected: refused,
    note:
      `signed HEADs of absent assets, half stamped 60 s ahead (rejected = 401: ${
        [...statuses].map(([s, n]) => `${n}× ${s}`).join(", ")
      }); TLS connects that failed ${failedConnect}`,
  };
}

/** The sidecar attacks by name. */
export const SIDECAR_ATTACKS: Record<
  string,
  (ctx: AttackContext) => Promise<AttackCounts>
> = {
  "sidecar-slow-upload": slowUploads,
  "sidecar-quota": quotaExhaustion,
  "sidecar-signed-flood": signedFlood,
};
