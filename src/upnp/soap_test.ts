import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertThrows,
} from "../../tests/assert.ts";
import { UpnpActionError } from "./errors.ts";
import {
  buildSoapRequest,
  escapeXml,
  MAX_SOAP_RESPONSE_BYTES,
  parseSoapResponse,
} from "./soap.ts";

const WAN = "urn:schemas-upnp-org:service:WANIPConnection:2";

Deno.test("buildSoapRequest() writes the envelope and SOAPAction header", () => {
  const request = buildSoapRequest(WAN, "AddPortMapping", [
    ["NewExternalPort", 9000],
    ["NewPortMappingDescription", "knarr protocol 9000"],
  ]);
  assertEquals(request.headers, {
    "Content-Type": 'text/xml; charset="utf-8"',
    SOAPAction: `"${WAN}#AddPortMapping"`,
  });
  assert(request.body.startsWith('<?xml version="1.0"?>'));
  assert(
    request.body.includes(
      `<s:Body><u:AddPortMapping xmlns:u="${WAN}"><NewExternalPort>9000</NewExternalPort>` +
        "<NewPortMappingDescription>knarr protocol 9000</NewPortMappingDescription>" +
        "</u:AddPortMapping></s:Body>",
    ),
  );
});

Deno.test("buildSoapRequest() escapes values and refuses hostile names", async (t) => {
  await t.step("values are escaped", () => {
    const { body } = buildSoapRequest(WAN, "AddPortMapping", [[
      "NewPortMappingDescription",
      '</x><evil a="1">&\'',
    ]]);
    assert(body.includes("&#60;/x&#62;&#60;evil a=&#34;1&#34;&#62;&#38;&#39;"));
    assertEquals(escapeXml("a<b"), "a&#60;b");
  });
  await t.step("names and types are checked", () => {
    assertThrows(() => buildSoapRequest(WAN, "Add Port"), TypeError);
    assertThrows(() => buildSoapRequest(WAN, "A><x"), TypeError);
    assertThrows(() => buildSoapRequest('x" y="', "Get"), TypeError);
    assertThrows(
      () => buildSoapRequest(WAN, "Get", [["<bad>", "1"]]),
      TypeError,
    );
  });
});

Deno.test("parseSoapResponse() reads output arguments", () => {
  const xml = '<?xml version="1.0"?><s:Envelope><s:Body>' +
    `<u:GetExternalIPAddressResponse xmlns:u="${WAN}">` +
    "<NewExternalIPAddress>11.0.0.7</NewExternalIPAddress>" +
    "</u:GetExternalIPAddressResponse></s:Body></s:Envelope>";
  assertEquals(
    parseSoapResponse(xml, "GetExternalIPAddress", ["NewExternalIPAddress"]),
    { NewExternalIPAddress: "11.0.0.7" },
  );
  assertEquals(
    parseSoapResponse(
      `<s:Body><u:AddPortMappingResponse xmlns:u="${WAN}"/></s:Body>`,
      "AddPortMapping",
      ["Missing"],
    ),
    { Missing: "" },
  );
});

Deno.test("parseSoapResponse() turns a fault into UpnpActionError with its code", () => {
  // miniupnpd's answer when its nftables chains are missing.
  const fault =
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">' +
    "<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>" +
    '<detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>501</errorCode>' +
    "<errorDescription>ActionFailed</errorDescription></UPnPError></detail></s:Fault>" +
    "</s:Body></s:Envelope>";
  try {
    parseSoapResponse(fault, "AddPortMapping");
    assert(false, "expected a fault");
  } catch (e) {
    assert(e instanceof UpnpActionError);
    assertStrictEquals((e as UpnpActionError).code, 501);
    assertStrictEquals(
      (e as Error).message,
      "Gateway refused AddPortMapping: UPnP error 501 ActionFailed",
    );
  }
});

Deno.test("parseSoapResponse() survives hostile answers", async (t) => {
  await t.step("a fault without a code or with a junk code", () => {
    for (
      const xml of [
        "<s:Fault><faultstring>x</faultstring></s:Fault>",
        "<s:Fault><errorCode>-5</errorCode></s:Fault>",
        "<Fault><errorCode>99999999999999999999</errorCode></Fault>",
      ]
    ) {
      try {
        parseSoapResponse(xml, "AddPortMapping");
        assert(false, "expected a fault");
      } catch (e) {
        assert(e instanceof UpnpActionError);
        assertStrictEquals(e.code, 0);
      }
    }
  });
  await t.step("a multi-line description becomes one line", () => {
    try {
      parseSoapResponse(
        "<s:Fault><errorCode>718</errorCode><errorDescription>a\r\nb\n" +
          "c".repeat(500) + "</errorDescription></s:Fault>",
        "AddPortMapping",
      );
      assert(false, "expected a fault");
    } catch (e) {
      assert(!(e as Error).message.includes("\n"));
      assert((e as Error).message.length < 300);
      assertStrictEquals((e as UpnpActionError).code, 718);
    }
  });
  await t.step("no answer element, HTML or an oversized body", () => {
    assertThrows(
      () => parseSoapResponse("<html>router login</html>", "AddPortMapping"),
      SyntaxError,
    );
    assertThrows(
      () =>
        parseSoapResponse(
          "<u:GetExternalIPAddressResponse/>",
          "AddPortMapping",
        ),
      SyntaxError,
    );
    assertThrows(
      () =>
        parseSoapResponse(
          "<u:AddPortMappingResponse/>" + " ".repeat(MAX_SOAP_RESPONSE_BYTES),
          "AddPortMapping",
        ),
      SyntaxError,
    );
    assertThrows(() => parseSoapResponse("", "A(.*)"), TypeError);
  });
});
