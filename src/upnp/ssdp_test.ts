import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  buildSearchRequest,
  MAX_SSDP_RESPONSE_BYTES,
  parseSearchResponse,
} from "./ssdp.ts";

const MINIUPNPD_ANSWER = "HTTP/1.1 200 OK\r\n" +
  "CACHE-CONTROL: max-age=120\r\n" +
  "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
  "USN: uuid:3e1a2b4c::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
  "EXT:\r\n" +
  "SERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n" +
  "LOCATION: http://192.168.77.1:5555/rootDesc.xml\r\n" +
  "\r\n";

Deno.test("buildSearchRequest() writes an ssdp:discover M-SEARCH", async (t) => {
  await t.step("for the gateway target, CRLF ended", () => {
    const text = buildSearchRequest();
    assert(text.startsWith("M-SEARCH * HTTP/1.1\r\n"));
    assert(text.includes("HOST: 239.255.255.250:1900\r\n"));
    assert(text.includes('MAN: "ssdp:discover"\r\n'));
    assert(
      text.includes(
        "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n",
      ),
    );
    assert(text.endsWith("\r\n\r\n"));
  });
  await t.step("clamps MX to 1..5", () => {
    assert(buildSearchRequest(undefined, 0).includes("MX: 1\r\n"));
    assert(buildSearchRequest(undefined, 60).includes("MX: 5\r\n"));
  });
  await t.step("refuses a target that would inject headers", () => {
    assertThrows(() => buildSearchRequest("a\r\nEVIL: 1"), TypeError);
    assertThrows(() => buildSearchRequest(""), TypeError);
  });
});

Deno.test("parseSearchResponse() reads miniupnpd's answer", () => {
  assertEquals(parseSearchResponse(MINIUPNPD_ANSWER), {
    location: "http://192.168.77.1:5555/rootDesc.xml",
    searchTarget: "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    usn: "uuid:3e1a2b4c::urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    server: "Debian/12 UPnP/1.1 MiniUPnPd/2.3.1",
  });
});

Deno.test("parseSearchResponse() takes headers in any case, LF only, first wins", () => {
  const answer = parseSearchResponse(
    "http/1.1 200 OK\nLocation: http://10.0.0.1/d.xml\nlocation: http://6.6.6.6/x\n\n",
  );
  assertEquals(answer?.location, "http://10.0.0.1/d.xml");
  assertEquals(answer?.searchTarget, "");
});

Deno.test("parseSearchResponse() returns null for hostile or foreign datagrams", async (t) => {
  const cases: [string, string][] = [
    ["empty", ""],
    ["a NOTIFY", "NOTIFY * HTTP/1.1\r\nLOCATION: http://1.2.3.4/\r\n\r\n"],
    ["an M-SEARCH echo", buildSearchRequest()],
    ["a 404", "HTTP/1.1 404 Not Found\r\nLOCATION: http://1.2.3.4/\r\n\r\n"],
    ["no LOCATION", "HTTP/1.1 200 OK\r\nST: x\r\n\r\n"],
    ["an empty LOCATION", "HTTP/1.1 200 OK\r\nLOCATION:\r\n\r\n"],
    ["a relative LOCATION", "HTTP/1.1 200 OK\r\nLOCATION: /desc.xml\r\n\r\n"],
    [
      "an https LOCATION",
      "HTTP/1.1 200 OK\r\nLOCATION: https://1.2.3.4/\r\n\r\n",
    ],
    [
      "a file: LOCATION",
      "HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n",
    ],
    [
      "a LOCATION after the blank line",
      "HTTP/1.1 200 OK\r\n\r\nLOCATION: http://1.2.3.4/\r\n",
    ],
    ["binary junk", "\u0000\u00ff\u0001HTTP/1.1 200"],
    [
      "an oversized answer",
      "HTTP/1.1 200 OK\r\nLOCATION: http://1.2.3.4/\r\nX: " +
      "a".repeat(MAX_SSDP_RESPONSE_BYTES) + "\r\n\r\n",
    ],
  ];
  for (const [name, text] of cases) {
    await t.step(name, () => assertEquals(parseSearchResponse(text), null));
  }
});
