import { assertEquals } from "../../tests/assert.ts";
import {
  decodeEntities,
  elementText,
  findWanService,
  MAX_DESCRIPTION_BYTES,
} from "./device_description.ts";

const LOCATION = "http://192.168.77.1:5555/rootDesc.xml";

function service(type: string, control: string): string {
  return `<service><serviceType>${type}</serviceType><serviceId>x</serviceId>` +
    `<controlURL>${control}</controlURL></service>`;
}

function description(...services: string[]): string {
  return '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0">' +
    "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>" +
    `<serviceList>${
      service("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/ctl/L3F")
    }</serviceList><deviceList><device><serviceList>${
      services.join("")
    }</serviceList></device></deviceList></device></root>`;
}

Deno.test("findWanService() finds miniupnpd's WANIPConnection:2", () => {
  assertEquals(
    findWanService(
      description(
        service(
          "urn:schemas-upnp-org:service:WANIPConnection:2",
          "/ctl/IPConn",
        ),
        service(
          "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1",
          "/ctl/IP6FCtl",
        ),
      ),
      LOCATION,
    ),
    {
      serviceType: "urn:schemas-upnp-org:service:WANIPConnection:2",
      controlUrl: "http://192.168.77.1:5555/ctl/IPConn",
    },
  );
});

Deno.test("findWanService() prefers WANIPConnection over WANPPPConnection", () => {
  const xml = description(
    service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp"),
    service("urn:schemas-upnp-org:service:WANIPConnection:1", "/ip"),
  );
  assertEquals(
    findWanService(xml, LOCATION)?.controlUrl,
    "http://192.168.77.1:5555/ip",
  );
  const ppp = description(
    service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp"),
  );
  assertEquals(
    findWanService(ppp, LOCATION)?.serviceType,
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
  );
});

Deno.test("findWanService() resolves against URLBase, handles prefixes and entities", () => {
  const xml = "<root><URLBase>http://192.168.77.1:49000/</URLBase>" +
    "<d:serviceList><d:service attr='1'><d:serviceType>" +
    "urn:schemas-upnp-org:service:WANIPConnection:1</d:serviceType>" +
    "<d:controlURL>upnp/control?a=1&amp;b=2</d:controlURL></d:service>" +
    "</d:serviceList></root>";
  assertEquals(
    findWanService(xml, LOCATION)?.controlUrl,
    "http://192.168.77.1:49000/upnp/control?a=1&b=2",
  );
});

Deno.test("findWanService() returns null for hostile or useless descriptions", async (t) => {
  const wan = "urn:schemas-upnp-org:service:WANIPConnection:1";
  const cases: [string, string, string][] = [
    ["empty", "", LOCATION],
    ["not XML", '{"json": true}', LOCATION],
    ["no WAN service", description(), LOCATION],
    [
      "a control URL on another host",
      description(service(wan, "http://203.0.113.9/ctl")),
      LOCATION,
    ],
    [
      "a URLBase on another host",
      `<root><URLBase>http://127.0.0.1:22/</URLBase>${
        service(wan, "/ctl")
      }</root>`,
      LOCATION,
    ],
    [
      "an https control URL",
      description(service(wan, "https://192.168.77.1/c")),
      LOCATION,
    ],
    [
      "a javascript: control URL",
      description(service(wan, "javascript:alert(1)")),
      LOCATION,
    ],
    ["an empty control URL", description(service(wan, "")), LOCATION],
    [
      "a look-alike service type",
      description(service(wan + "x", "/ctl")),
      LOCATION,
    ],
    ["an unclosed service", `<service><serviceType>${wan}`, LOCATION],
    ["a bad location", description(service(wan, "/ctl")), "not a url"],
    [
      "an oversized description",
      description(service(wan, "/ctl")) + " ".repeat(MAX_DESCRIPTION_BYTES),
      LOCATION,
    ],
  ];
  for (const [name, xml, location] of cases) {
    await t.step(name, () => assertEquals(findWanService(xml, location), null));
  }
});

Deno.test("findWanService() stays linear on many unclosed service tags", () => {
  const xml = "<service>".repeat(25_000) + "<serviceType>".repeat(2_000);
  const began = performance.now();
  assertEquals(findWanService(xml, LOCATION), null);
  // Quadratic scanning would take seconds here; the bound is generous for slow CI.
  assertEquals(performance.now() - began < 1_000, true);
});

Deno.test("elementText() and decodeEntities() decode what XML allows", () => {
  assertEquals(elementText("<a>x</a>", "a"), "x");
  assertEquals(elementText("<p:a>  &lt;y&gt; </p:a>", "a"), "<y>");
  assertEquals(elementText("<ab>x</ab>", "a"), null);
  assertEquals(elementText("<a><b>x</b></a>", "a"), null);
  assertEquals(decodeEntities("&#65;&#x42;&amp;&quot;&apos;"), "AB&\"'");
  assertEquals(
    decodeEntities("&#0;&#x110000;&bogus;"),
    "&#0;&#x110000;&bogus;",
  );
});
