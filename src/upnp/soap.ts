/** SOAP for UPnP control: the request envelope and the answer (or fault) parser. */
import { elementText } from "./device_description.ts";
import { UpnpActionError } from "./errors.ts";

/** Answers longer than this are refused. */
export const MAX_SOAP_RESPONSE_BYTES = 65_536;

/** A SOAP request ready to post to a control URL. */
export interface SoapRequest {
  /** The XML envelope. */
  body: string;
  /** HTTP headers: Content-Type and the quoted SOAPAction. */
  headers: Record<string, string>;
}

/** Escapes text for an XML element. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const NAME = /^[A-Za-z_][\w]{0,63}$/;
const SERVICE_TYPE = /^urn:[\w.-]+:service:[\w.-]+:\d{1,3}$/;

/** Builds the envelope for `action` of `serviceType` with its arguments in order. */
export function buildSoapRequest(
  serviceType: string,
  action: string,
  args: readonly (readonly [string, string | number])[] = [],
): SoapRequest {
  if (!SERVICE_TYPE.test(serviceType)) {
    throw new TypeError(`Cannot build a SOAP request for "${serviceType}"`);
  }
  if (!NAME.test(action)) {
    throw new TypeError(`Cannot build a SOAP request for action "${action}"`);
  }
  const fields = args.map(([name, value]) => {
    if (!NAME.test(name)) {
      throw new TypeError(`Cannot build a SOAP argument named "${name}"`);
    }
    return `<${name}>${escapeXml(String(value))}</${name}>`;
  }).join("");
  const body = '<?xml version="1.0"?>\r\n' +
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">' +
    `<s:Body><u:${action} xmlns:u="${serviceType}">${fields}</u:${action}>` +
    "</s:Body></s:Envelope>\r\n";
  return {
    body,
    headers: {
      "Content-Type": 'text/xml; charset="utf-8"',
      SOAPAction: `"${serviceType}#${action}"`,
    },
  };
}

/**
 * Reads the answer to `action`: its output arguments by name (`names`), "" when absent.
 * Throws {@linkcode UpnpActionError} for a SOAP fault (with its UPnP error code), and
 * SyntaxError for anything that is neither an answer nor a fault.
 */
export function parseSoapResponse(
  xml: string,
  action: string,
  names: readonly string[] = [],
): Record<string, string> {
  if (!NAME.test(action)) {
    throw new TypeError(`Cannot read the answer to action "${action}"`);
  }
  if (xml.length > MAX_SOAP_RESPONSE_BYTES) {
    throw new SyntaxError(
      `Cannot read the answer to ${action}: ${xml.length} characters exceeds ${MAX_SOAP_RESPONSE_BYTES}`,
    );
  }
  if (/<(?:[A-Za-z_][\w.-]*:)?Fault[\s>]/.test(xml)) {
    const code = Number(elementText(xml, "errorCode") ?? "");
    const description = elementText(xml, "errorDescription") ??
      elementText(xml, "faultstring") ?? "";
    throw new UpnpActionError(
      action,
      Number.isSafeInteger(code) && code >= 0 ? code : 0,
      description.replace(/\s+/g, " ").slice(0, 200),
    );
  }
  if (
    !new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${action}Response[\\s/>]`).test(xml)
  ) {
    throw new SyntaxError(
      `Cannot read the answer to ${action}: no ${action}Response element`,
    );
  }
  const out: Record<string, string> = {};
  for (const name of names) out[name] = elementText(xml, name) ?? "";
  return out;
}
