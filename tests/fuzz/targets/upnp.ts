/** Fuzz targets of the UPnP client: a gateway's SSDP answer, device description and SOAP replies. */
import fc from "fast-check";
import {
  findWanService,
  parseSearchResponse,
  parseSoapResponse,
  UpnpActionError,
} from "../../../src/upnp/mod.ts";
import {
  attempt,
  ensure,
  type FuzzTarget,
  text,
  utf8,
} from "../fuzz_target.ts";
import { mutatedBytes, randomBytes, randomText, whole } from "../mutate.ts";

const ANSWER = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n" +
  "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
  "USN: uuid:3e1a2b4c::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n" +
  "EXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n" +
  "LOCATION: http://192.168.77.1:5555/rootDesc.xml\r\n\r\n";

const ssdp: FuzzTarget = {
  name: "upnp.ssdp",
  about: "parseSearchResponse: never throws; an answer names an http: location",
  input: () =>
    whole(fc.oneof(
      {
        weight: 5,
        arbitrary: mutatedBytes([utf8(ANSWER)], {
          tokens: [
            "\r\n",
            "\n",
            ":",
            "LOCATION: ",
            "http://",
            "file:///",
            "[::1]",
            "@",
          ],
        }),
      },
      { weight: 1, arbitrary: randomBytes() },
    )),
  open: () => ({
    check({ data }) {
      const answer = attempt(
        () => parseSearchResponse(text(data)),
        [],
        "parseSearchResponse",
      );
      if (answer === undefined || answer === null) return;
      const url = new URL(answer.location);
      ensure(
        url.protocol === "http:" && url.hostname !== "",
        `parseSearchResponse gave location ${answer.location}`,
      );
    },
  }),
};

const LOCATION = "http://192.168.77.1:5555/rootDesc.xml";

function service(type: string, control: string): string {
  return `<service><serviceType>${type}</serviceType><serviceId>x</serviceId><controlURL>${control}</controlURL></service>`;
}

const DESCRIPTIONS = [
  '<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><URLBase>http://192.168.77.1:5555/</URLBase>' +
  "<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><serviceList>" +
  service("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/ctl/L3F") +
  "</serviceList><deviceList><device><serviceList>" +
  service("urn:schemas-upnp-org:service:WANIPConnection:2", "/ctl/IPConn") +
  service(
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
    "ctl/PPP?a=&amp;b",
  ) +
  "</serviceList></device></deviceList></device></root>",
  `<s:root><s:service><s:serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</s:serviceType><s:controlURL>http://192.168.77.1:80/x</s:controlURL></s:service></s:root>`,
].map(utf8);

const XML_TOKENS = [
  "<",
  ">",
  "</",
  "/>",
  "<service>",
  "</service>",
  "<controlURL>",
  "<URLBase>",
  "&#x10FFFF;",
  "&#0;",
  "&amp;",
  "<![CDATA[",
  "http://10.0.0.1/",
  "//evil.example/",
  ":",
];

const description: FuzzTarget = {
  name: "upnp.description",
  about:
    "findWanService: never throws; the control URL is http: on the host the description came from",
  input: () =>
    whole(fc.oneof(
      {
        weight: 6,
        arbitrary: mutatedBytes(DESCRIPTIONS, {
          tokens: XML_TOKENS,
          maxRepeat: 4096,
        }),
      },
      { weight: 1, arbitrary: randomText("<>/:servicontrlURLBa &#x;1", 300) },
    )),
  open: () => ({
    check({ data }) {
      const found = attempt(
        () => findWanService(text(data), LOCATION),
        [],
        "findWanService",
      );
      if (!found) return;
      const url = new URL(found.controlUrl);
      ensure(
        url.protocol === "http:" && url.hostname === "192.168.77.1",
        `findWanService gave control URL ${found.controlUrl}`,
      );
    },
  }),
};

const SOAP = [
  '<?xml version="1.0"?><s:Envelope><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>11.0.0.7</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>',
  '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>501</errorCode><errorDescription>ActionFailed</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>',
].map(utf8);

const soap: FuzzTarget = {
  name: "upnp.soap",
  about:
    "parseSoapResponse: UpnpActionError (a fault) or SyntaxError only; arguments are strings",
  input: () =>
    whole(fc.oneof(
      {
        weight: 6,
        arbitrary: mutatedBytes(SOAP, {
          tokens: [...XML_TOKENS, "<errorCode>", "99999999999999999999", "-1"],
          maxRepeat: 4096,
        }),
      },
      { weight: 1, arbitrary: randomBytes() },
    )),
  open: () => ({
    check({ data }) {
      const out = attempt(
        () =>
          parseSoapResponse(text(data), "GetExternalIPAddress", [
            "NewExternalIPAddress",
          ]),
        [UpnpActionError, SyntaxError],
        "parseSoapResponse",
      );
      if (out === undefined) return;
      ensure(
        typeof out.NewExternalIPAddress === "string",
        "parseSoapResponse gave a non-string argument",
      );
    },
  }),
};

/** The UPnP layer's targets. */
export const UPNP_TARGETS: readonly FuzzTarget[] = [ssdp, description, soap];
