import { XMLParser } from 'fast-xml-parser';

export const QBWC_NAMESPACE = 'http://developer.intuit.com/';
const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';

export type QbwcMethod =
  | 'serverVersion'
  | 'clientVersion'
  | 'authenticate'
  | 'sendRequestXML'
  | 'receiveResponseXML'
  | 'connectionError'
  | 'getLastError'
  | 'closeConnection';

/** One child of the method element, in the order the WSDL sequence demands. */
export type SoapParameter = readonly [name: string, value: string | number];

/** The server answered with a SOAP Fault; QBWC ends the run on these. */
export class SoapFaultError extends Error {
  override readonly name = 'SoapFaultError';
  constructor(
    readonly faultcode: string,
    readonly faultstring: string,
  ) {
    super(`SOAP Fault ${faultcode}: ${faultstring}`);
  }
}

/** The reply was not the document QBWC expects (wrong element, not XML, non-integer percent, ...). */
export class QbwcProtocolError extends Error {
  override readonly name = 'QbwcProtocolError';
}

/** .NET's XmlWriter escapes these three in text content; quotes stay literal, as on the real wire. */
function escapeText(value: string): string {
  return value.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/**
 * Builds the request body the way QBWC 2.3 (a .NET SoapHttpClientProtocol client) writes it: the method element
 * unprefixed in the default namespace, children unprefixed, empty values as self-closed elements, and the qbXML
 * as escaped text. `serverVersion` goes out with no children at all.
 */
export function buildQbwcRequest(method: QbwcMethod, parameters: readonly SoapParameter[]): string {
  const children = parameters
    .map(([name, value]) => {
      const text = String(value);
      return text === '' ? `<${name} />` : `<${name}>${escapeText(text)}</${name}>`;
    })
    .join('');
  const methodElement =
    children === ''
      ? `<${method} xmlns="${QBWC_NAMESPACE}" />`
      : `<${method} xmlns="${QBWC_NAMESPACE}">${children}</${method}>`;
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP_ENVELOPE_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
    `<soap:Body>${methodElement}</soap:Body></soap:Envelope>`
  );
}

const replyParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  // numeric character references (&#xD;) must decode; the escaped qbXML can be large
  htmlEntities: true,
  processEntities: { enabled: true, maxExpandedLength: 50_000_000 },
  isArray: (name) => name === 'string',
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new QbwcProtocolError('expected text, found child elements');
}

/**
 * Returns the content of `<{method}Result>` (undefined when the optional element is absent). Namespace prefixes in
 * replies are the server's choice, so they are stripped; a Fault becomes {@link SoapFaultError}.
 */
export function readQbwcResult(method: QbwcMethod, body: string): unknown {
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new QbwcProtocolError(`${method} reply contains a DOCTYPE; refused`);
  let doc: unknown;
  try {
    doc = replyParser.parse(body, true);
  } catch (err) {
    throw new QbwcProtocolError(
      `${method} reply is not well-formed XML: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const envelope = isRecord(doc) ? doc.Envelope : undefined;
  const soapBody = isRecord(envelope) ? envelope.Body : undefined;
  if (!isRecord(soapBody)) throw new QbwcProtocolError(`${method} reply is not a SOAP envelope with a Body`);
  const fault = soapBody.Fault;
  if (fault !== undefined) {
    const f = isRecord(fault) ? fault : {};
    throw new SoapFaultError(textOf(f.faultcode), textOf(f.faultstring));
  }
  const response = soapBody[`${method}Response`];
  if (response === undefined) {
    const found = Object.keys(soapBody).join(', ') || 'nothing';
    throw new QbwcProtocolError(`${method} reply has no <${method}Response> (found ${found})`);
  }
  if (!isRecord(response)) return undefined;
  return response[`${method}Result`];
}

export function readStringResult(method: QbwcMethod, body: string): string {
  return textOf(readQbwcResult(method, body));
}

/** `authenticateResult` is an ArrayOfString; every `<string>` counts, empty ones included. */
export function readStringArrayResult(method: QbwcMethod, body: string): string[] {
  const result = readQbwcResult(method, body);
  if (result === undefined || result === '') return [];
  if (!isRecord(result)) throw new QbwcProtocolError(`${method}Result must contain <string> elements`);
  const strings = result.string;
  if (!Array.isArray(strings)) return [];
  return strings.map(textOf);
}

/** QBWC fails on anything but a plain integer here (quickbooks-js shipped decimals and broke). */
export function readIntResult(method: QbwcMethod, body: string): number {
  const text = textOf(readQbwcResult(method, body)).trim();
  if (!/^-?\d+$/.test(text))
    throw new QbwcProtocolError(`${method}Result must be an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}
