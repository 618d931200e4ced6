import parsePrometheusText from "parse-prometheus-text-format";
import { assert, assertEquals, assertMatch } from "../../tests/assert.ts";
import { constantTimeEqual } from "./_auth.ts";
import { CockpitServer } from "./cockpit_server.ts";
import type { CockpitSource, KnownSkillView, TaskView } from "./types.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const EVIL =
  `<script>document.title="pwned"</script><img src=x onerror="alert(1)">`;

/** A source with fixed views that records the actions it was asked for. */
function fakeSource() {
  const actions: string[] = [];
  const tasks: TaskView[] = [];
  const known: KnownSkillView[] = [{
    name: "evil",
    provider: "b".repeat(64),
    host: "10.0.0.1",
    port: 9000,
    version: `1.0.0"><b>`,
    description: EVIL,
    price: 1,
    tags: [EVIL],
  }];
  const source: CockpitSource = {
    node: () => ({
      nodeId: "a".repeat(64),
      publicKey: "c".repeat(64),
      version: "0.1.0",
      startedAt: Date.now() - 5000,
      addresses: [{ label: "Listening", value: "127.0.0.1:9000" }],
      reachability: "not checked",
      upnp: "off",
      load: { running: 0, queued: 0 },
      rejected: { [EVIL]: 1 },
    }),
    peers: () => [{
      nodeId: "b".repeat(64),
      host: EVIL,
      port: 9000,
      lastSeen: Date.now() / 1000,
      latencyMs: 1.5,
      load: null,
      skills: 1,
    }],
    ownSkills: () => [{
      name: "echo",
      version: "1.0.0",
      description: "Echoes",
      price: 0,
      visibility: "public",
      enabled: true,
      completed: 1,
      failed: 0,
      errors: {},
      p50Ms: 1,
      p99Ms: 2,
      reload: "loaded",
    }],
    knownSkills: () => known,
    tasks: (after) => tasks.filter((t) => t.seq > after),
    ledger: () => [],
    reputation: () => [],
    demand: () => [{ value: EVIL, type: "name", count: 2, lastSeen: 0 }],
    assets: () => null,
    relay: () => null,
    series: () => [],
    metrics: () =>
      '# HELP knarr_peers Known peers\n# TYPE knarr_peers gauge\nknarr_peers 1\n# HELP knarr_tasks_total T\n# TYPE knarr_tasks_total counter\nknarr_tasks_total{skill="echo",status="completed"} 1\n',
    setSkillEnabled: (name, enabled) => {
      actions.push(`skill ${name} ${enabled}`);
      return name === "echo";
    },
    dropPeer: (id) => {
      actions.push(`peer ${id.slice(0, 4)}`);
      return true;
    },
    deleteAsset: (hash) => {
      actions.push(`asset ${hash.slice(0, 4)}`);
      return Promise.resolve(false);
    },
  };
  return { source, actions, tasks };
}

async function started(tickMs = 50) {
  const fake = fakeSource();
  const server = await CockpitServer.start(fake.source, {
    token: TOKEN,
    tickMs,
  });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    ...fake,
    server,
    base,
    [Symbol.asyncDispose]: () => server.close(),
  };
}

/** Logs in with `?token=` and returns the session cookie and the page's CSRF token. */
async function login(base: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${base}/?token=${TOKEN}`, { redirect: "manual" });
  await r.body?.cancel();
  assertEquals([r.status, r.headers.get("location")], [303, "/"]);
  const cookie = r.headers.get("set-cookie")!.split(";")[0]!;
  assertMatch(cookie, /^knarr_cockpit_\d+=[0-9a-f]{64}$/);
  const page = await fetch(`${base}/`, { headers: { cookie } });
  const text = await page.text();
  assertEquals(page.status, 200);
  const csrf = /<meta name="csrf-token" content="([0-9a-f]{64})">/.exec(text)
    ?.[1];
  assert(csrf, "the page carries its session's CSRF token");
  return { cookie, csrf };
}

function post(
  base: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
  });
}

Deno.test("CockpitServer answers 401 to every page, stream and action without the token", async () => {
  await using c = await started();
  const requests: [string, string][] = [
    ["GET", "/"],
    ["GET", "/app.js"],
    ["GET", "/events"],
    ["GET", "/metrics"],
    ["GET", "/nowhere"],
    ["POST", "/actions/skill"],
    ["POST", "/actions/peer"],
    ["POST", "/actions/asset"],
  ];
  for (const [method, path] of requests) {
    for (
      const headers of [
        {},
        { authorization: `Bearer ${TOKEN.slice(0, -1)}x` },
        { cookie: `knarr_cockpit_${c.server.port}=${"0".repeat(64)}` },
      ]
    ) {
      const r = await fetch(`${c.base}${path}`, {
        method,
        headers,
        ...(method === "POST" ? { body: "name=echo&enabled=false" } : {}),
      });
      await r.body?.cancel();
      assertEquals(
        r.status,
        401,
        `${method} ${path} ${JSON.stringify(headers)}`,
      );
      assertEquals(
        r.headers.get("www-authenticate"),
        'Bearer realm="knarr cockpit"',
      );
    }
  }
  const wrong = await fetch(`${c.base}/?token=nope`);
  assertEquals(wrong.status, 401);
  assertMatch(await wrong.text(), /That token is not this node&#39;s/);
  const wrongMetrics = await fetch(`${c.base}/metrics?token=${TOKEN}x`);
  await wrongMetrics.body?.cancel();
  assertEquals(wrongMetrics.status, 401);
  assertEquals(c.actions, []);
  // The stylesheet holds nothing secret: the login page uses it.
  const css = await fetch(`${c.base}/app.css`);
  await css.body?.cancel();
  assertEquals(css.status, 200);
});

Deno.test("CockpitServer logs in with ?token= into a cookie session and serves the page with a strict CSP", async () => {
  await using c = await started();
  const { cookie } = await login(c.base);
  const page = await fetch(`${c.base}/`, { headers: { cookie } });
  await page.body?.cancel();
  assertMatch(
    page.headers.get("content-security-policy")!,
    /script-src 'self'/,
  );
  assertEquals(page.headers.get("x-frame-options"), "DENY");
  const bearer = await fetch(`${c.base}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assertEquals(bearer.status, 200);
  assertMatch(
    bearer.headers.get("content-type")!,
    /^text\/plain; version=0\.0\.4/,
  );
  const families = (parsePrometheusText as (t: string) => { name: string }[])(
    await bearer.text(),
  );
  assertEquals(families.map((f) => f.name), [
    "knarr_peers",
    "knarr_tasks_total",
  ]);
  const query = await fetch(`${c.base}/metrics?token=${TOKEN}`);
  await query.body?.cancel();
  assertEquals(query.status, 200);
});

Deno.test("CockpitServer escapes every peer-provided string in the page and in live updates", async () => {
  await using c = await started();
  const { cookie } = await login(c.base);
  const html = await (await fetch(`${c.base}/`, { headers: { cookie } }))
    .text();
  assert(!html.includes("<script>document"), "no raw script from a peer");
  assert(!html.includes("<img src=x"), "no raw img from a peer");
  assert(!html.includes('"><b>'), "no attribute break-out");
  assert(
    html.includes(
      "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;",
    ),
  );
  assertEquals(html.match(/<script/g)?.length, 1, "only our own script tag");
  const events = await fetch(`${c.base}/events`, { headers: { cookie } });
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('"id":"demand"')) text += (await reader.read()).value;
  await reader.cancel();
  const updates = text.split("\n").filter((l) => l.startsWith("data: ")).map((
    l,
  ) => JSON.parse(l.slice(6)).html as string);
  assert(updates.length > 0);
  for (const update of updates) {
    assert(!update.includes("<script>document"), update);
    assert(!update.includes("<img src=x"), update);
  }
});

Deno.test("CockpitServer streams tasks as they end, resuming after Last-Event-ID", async () => {
  await using c = await started(30);
  const { cookie } = await login(c.base);
  const task = (seq: number, skill: string): TaskView => ({
    seq,
    at: Date.now(),
    taskId: `task-${seq}`,
    skill,
    caller: "d".repeat(64),
    status: "completed",
    code: "",
    wallMs: 1.25,
    price: 1,
  });
  c.tasks.push(task(1, "first"));
  const events = await fetch(`${c.base}/events?after=1`, {
    headers: { cookie },
  });
  assertEquals(events.headers.get("content-type"), "text/event-stream");
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('"id":"relay"')) text += (await reader.read()).value;
  assert(
    !text.includes("event: task"),
    "tasks up to ?after= are on the page already",
  );
  c.tasks.push(task(2, EVIL));
  while (!text.includes("event: task")) text += (await reader.read()).value;
  await reader.cancel();
  assertMatch(text, /id: 2\nevent: task\ndata: /);
  assert(text.includes("&lt;script&gt;"));
  assert(!text.includes("<script>document"));
  const again = await fetch(`${c.base}/events`, {
    headers: { cookie, "last-event-id": "2" },
  });
  const r2 = again.body!.pipeThrough(new TextDecoderStream()).getReader();
  let t2 = "";
  while (!t2.includes('"id":"relay"')) t2 += (await r2.read()).value;
  await r2.cancel();
  assert(!t2.includes("event: task"), "a reconnecting page gets no task twice");
});

Deno.test("CockpitServer actions need the session's CSRF token from the same origin, or the bearer token", async () => {
  await using c = await started();
  const { cookie, csrf } = await login(c.base);
  const body = "name=echo&enabled=false";
  const origin = c.base;
  const refused: [Record<string, string>, RegExp][] = [
    [{ cookie }, /X-CSRF-Token/],
    [{ cookie, "x-csrf-token": "f".repeat(64) }, /X-CSRF-Token/],
    [
      { cookie, "x-csrf-token": csrf, "sec-fetch-site": "cross-site" },
      /cross-site/,
    ],
    [
      { cookie, "x-csrf-token": csrf, origin: "http://evil.example" },
      /another origin/,
    ],
  ];
  for (const [headers, why] of refused) {
    const r = await post(c.base, "/actions/skill", body, headers);
    assertEquals(r.status, 403);
    assertMatch((await r.json()).error, why);
  }
  assertEquals(c.actions, []);
  const ok = await post(c.base, "/actions/skill", body, {
    cookie,
    "x-csrf-token": csrf,
    origin,
    "sec-fetch-site": "same-origin",
  });
  assertEquals([ok.status, await ok.json()], [200, {
    ok: true,
    message: 'skill "echo" disabled',
  }]);
  const viaBearer = await fetch(`${c.base}/actions/peer`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ node_id: "b".repeat(64) }),
  });
  assertEquals(viaBearer.status, 200);
  await viaBearer.body?.cancel();
  const bad: [string, string, number][] = [
    ["/actions/skill", "name=echo&enabled=maybe", 400],
    ["/actions/skill", "name=other&enabled=true", 404],
    ["/actions/peer", "node_id=xyz", 400],
    ["/actions/asset", `hash=${"e".repeat(64)}`, 404],
  ];
  for (const [path, b, status] of bad) {
    const r = await post(c.base, path, b, { authorization: `Bearer ${TOKEN}` });
    assertEquals(r.status, status, `${path} ${b}`);
    await r.body?.cancel();
  }
  const get = await fetch(`${c.base}/actions/skill?token=${TOKEN}`);
  await get.body?.cancel();
  assertEquals(get.status, 405);
  assertEquals(c.actions, [
    "skill echo false",
    "peer bbbb",
    "skill other true",
    "asset eeee",
  ]);
});

Deno.test("constantTimeEqual() compares whole strings", () => {
  assert(constantTimeEqual(TOKEN, TOKEN));
  assert(!constantTimeEqual(TOKEN, TOKEN.slice(0, -1)));
  assert(!constantTimeEqual(TOKEN, `${TOKEN}0`));
  assert(!constantTimeEqual(TOKEN, ""));
  assert(!constantTimeEqual("", TOKEN));
  assert(!constantTimeEqual(TOKEN, `1${TOKEN.slice(1)}`));
});
