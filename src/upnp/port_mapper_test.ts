import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
} from "../../tests/assert.ts";
import type { Datagram } from "../net/mod.ts";
import { Logger } from "../util/mod.ts";
import { MAX_DESCRIPTIONS_TRIED, UpnpGateway } from "./gateway.ts";
import type { GatewayDeps } from "./gateway.ts";
import { UpnpPortMapper } from "./port_mapper.ts";

const GW = "192.168.77.1";
const LOCATION = `http://${GW}:5555/rootDesc.xml`;
const WAN = "urn:schemas-upnp-org:service:WANIPConnection:1";
const DESCRIPTION = `<root><device><serviceList><service><serviceType>${WAN}` +
  "</serviceType><controlURL>/ctl/IPConn</controlURL></service></serviceList></device></root>";

/** An in-memory gateway: answers the search, the description and the SOAP actions. */
function fakeGateway(
  options: {
    faults?: Record<string, number>;
    answer?: string;
    from?: string;
  } = {},
) {
  const calls: string[] = [];
  const state = { down: false };
  const mappings = new Map<string, string>();
  const faults = { ...options.faults };
  const reply = (body: string, status = 200) =>
    Promise.resolve(new Response(body, { status }));
  const deps: GatewayDeps = {
    exchange: async function* (): AsyncGenerator<Datagram> {
      await Promise.resolve();
      yield {
        data: new TextEncoder().encode(
          options.answer ??
            `HTTP/1.1 200 OK\r\nST: x\r\nLOCATION: ${LOCATION}\r\n\r\n`,
        ),
        host: options.from ?? GW,
        port: 1900,
      };
    },
    localAddressToward: () => Promise.resolve("192.168.77.2"),
    fetch: (input, init) => {
      if (state.down) return Promise.reject(new TypeError("unreachable"));
      const url = String(input);
      if (url === LOCATION) return reply(DESCRIPTION);
      const action = /#(\w+)"$/.exec(
        (init?.headers as Record<string, string>).SOAPAction ?? "",
      )![1]!;
      const body = String(init?.body);
      const port = /<NewExternalPort>(\d+)</.exec(body)?.[1] ?? "";
      const lease = /<NewLeaseDuration>(\d+)</.exec(body)?.[1] ?? "";
      calls.push(
        action === "AddPortMapping"
          ? `${action} ${port} ${lease}`
          : port
          ? `${action} ${port}`
          : action,
      );
      const key = `${action} ${port}` in faults ? `${action} ${port}` : action;
      const code = faults[key];
      if (code !== undefined) {
        if (code === 725) delete faults[key];
        return reply(
          `<s:Fault><errorCode>${code}</errorCode><errorDescription>No</errorDescription></s:Fault>`,
          500,
        );
      }
      if (action === "AddPortMapping") {
        mappings.set(
          port,
          /<NewPortMappingDescription>([^<]*)</.exec(body)![1]!,
        );
      }
      if (action === "DeletePortMapping") mappings.delete(port);
      return reply(
        `<u:${action}Response><NewExternalIPAddress>11.0.0.7</NewExternalIPAddress></u:${action}Response>`,
      );
    },
  };
  return { deps, calls, mappings, state };
}

/** A wait the test releases by hand; resolves at once once stopped. */
function handWait() {
  let release: (() => void) | null = null;
  return {
    wait: (_ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener("abort", () => resolve(), { once: true });
      }),
    tick: async () => {
      release?.();
      for (let i = 0; i < 20; i++) await Promise.resolve();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}

const PORTS = [
  { port: 9000, description: "knarr protocol 9000" },
  { port: 9001, description: "knarr sidecar 9001" },
];

Deno.test("UpnpPortMapper maps, renews and deletes on dispose", async () => {
  const gw = fakeGateway();
  const clock = handWait();
  const lines: string[] = [];
  const mapper = await UpnpPortMapper.start({
    ...gw.deps,
    wait: clock.wait,
    logger: new Logger({ sink: (l) => lines.push(l) }),
  }, { ports: PORTS });
  assertStrictEquals(mapper.externalAddress, "11.0.0.7");
  assertStrictEquals(mapper.gateway.host, GW);
  assertStrictEquals(mapper.gateway.localAddress, "192.168.77.2");
  assertStrictEquals(mapper.gateway.controlUrl, `http://${GW}:5555/ctl/IPConn`);
  assertEquals([...gw.mappings], [["9000", "knarr protocol 9000"], [
    "9001",
    "knarr sidecar 9001",
  ]]);
  assertEquals(gw.calls, [
    "GetExternalIPAddress",
    "AddPortMapping 9000 600",
    "AddPortMapping 9001 600",
  ]);
  await clock.tick();
  assertEquals(gw.calls.slice(3), [
    "AddPortMapping 9000 600",
    "AddPortMapping 9001 600",
  ]);
  await mapper[Symbol.asyncDispose]();
  await mapper[Symbol.asyncDispose]();
  assertEquals(gw.mappings.size, 0);
  assertEquals(gw.calls.slice(5), [
    "DeletePortMapping 9000",
    "DeletePortMapping 9001",
  ]);
  assertEquals(lines, []);
});

Deno.test("UpnpPortMapper falls back to a permanent lease on error 725", async () => {
  const gw = fakeGateway({ faults: { AddPortMapping: 725 } });
  await using mapper = await UpnpPortMapper.start({
    ...gw.deps,
    wait: handWait().wait,
  }, { ports: PORTS });
  assert(mapper);
  assertEquals(gw.calls, [
    "GetExternalIPAddress",
    "AddPortMapping 9000 600",
    "AddPortMapping 9000 0",
    "AddPortMapping 9001 0",
  ]);
});

Deno.test("UpnpPortMapper.start() rejects with one line and removes partial mappings", async (t) => {
  await t.step("a refused second mapping", async () => {
    const gw = fakeGateway({ faults: { "AddPortMapping 9001": 718 } });
    await assertRejects(
      () => UpnpPortMapper.start(gw.deps, { ports: PORTS }),
      /^UpnpActionError: Gateway refused AddPortMapping: UPnP error 718 No$/m,
    );
    assertEquals(gw.mappings.size, 0);
    assertEquals(gw.calls.slice(1), [
      "AddPortMapping 9000 600",
      "AddPortMapping 9001 600",
      "DeletePortMapping 9000",
    ]);
  });
  await t.step("no answer to the search", async () => {
    const deps: GatewayDeps = {
      exchange: async function* () {},
    };
    await assertRejects(
      () => UpnpPortMapper.start(deps, { ports: PORTS, searchTimeoutMs: 50 }),
      (e: Error) => {
        assertStrictEquals(
          e.message,
          "Cannot find a UPnP gateway: no answer to M-SEARCH within 50 ms",
        );
        return true;
      },
    );
  });
  await t.step("an answer pointing at another host", async () => {
    const gw = fakeGateway({ from: "192.168.77.66" });
    await assertRejects(
      () => UpnpPortMapper.start(gw.deps, { ports: PORTS }),
      /192\.168\.77\.66 answered with a location on another host/,
    );
    assertEquals(gw.calls, []);
  });
  await t.step("a gateway whose HTTP server is down", async () => {
    const gw = fakeGateway();
    const deps: GatewayDeps = {
      ...gw.deps,
      fetch: () => Promise.reject(new TypeError("connection refused")),
    };
    await assertRejects(
      () => UpnpPortMapper.start(deps, { ports: PORTS }),
      (e: Error) => {
        assertMatch(
          e.message,
          /^Cannot find a UPnP gateway: .*connection refused$/,
        );
        assert(!e.message.includes("\n"));
        return true;
      },
    );
  });
});

Deno.test("UpnpPortMapper warns once per failed renewal and keeps going", async () => {
  const gw = fakeGateway();
  const clock = handWait();
  const lines: string[] = [];
  await using mapper = await UpnpPortMapper.start({
    ...gw.deps,
    wait: clock.wait,
    logger: new Logger({ sink: (l) => lines.push(l) }),
  }, { ports: PORTS.slice(0, 1) });
  assertStrictEquals(mapper.ports.length, 1);
  gw.state.down = true;
  await clock.tick();
  assertStrictEquals(lines.length, 1);
  assertMatch(
    lines[0]!,
    /WARN UPnP: cannot renew the mappings on 192\.168\.77\.1: Cannot call AddPortMapping on 192\.168\.77\.1: HTTP POST .* failed: unreachable$/,
  );
  gw.state.down = false;
  await clock.tick();
  assertStrictEquals(lines.length, 1);
  assertEquals(gw.calls.at(-1), "AddPortMapping 9000 600");
});

Deno.test("UpnpGateway.discover() bounds its total time against slow, bogus answers", async () => {
  const fetched: string[] = [];
  const deps: GatewayDeps = {
    exchange: async function* (_payload, _target, options) {
      // Answers keep coming until the exchange's signal stops them.
      for (let i = 0; !options.signal?.aborted; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield {
          data: new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\nLOCATION: http://${GW}:${
              1000 + i
            }/d.xml\r\n\r\n`,
          ),
          host: GW,
          port: 1900,
        };
      }
    },
    // A description server that never answers: each fetch ends at its deadline.
    fetch: (input, init) => {
      fetched.push(String(input));
      return new Promise((_, reject) => {
        const signal = init!.signal!;
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), {
          once: true,
        });
      });
    },
  };
  const began = performance.now();
  await assertRejects(
    () =>
      UpnpGateway.discover(deps, {
        searchTimeoutMs: 50,
        requestTimeoutMs: 40,
      }),
    /^Error: Cannot find a UPnP gateway: http:\/\/192\.168\.77\.1:1000\/d\.xml: HTTP GET .* failed: /,
  );
  const took = performance.now() - began;
  assert(took < 1_000, `took ${took} ms`);
  assert(fetched.length <= MAX_DESCRIPTIONS_TRIED, String(fetched.length));
});
