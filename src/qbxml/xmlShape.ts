/**
 * A single linear pass over an XML text that stops as soon as the document is deeper, wider or more attribute-laden
 * than its kind can be (a SOAP envelope from the Web Connector, a qbXML answer from QuickBooks). It runs before the
 * validator and the parsers, whose cost
 * grows with exactly these (700,000 attributes took the validator 8.8 s), so a hostile body costs one short scan.
 * It does not judge well-formedness: the validator does that on whatever passes.
 */
export interface XmlShapeLimits {
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
}

/** A QBWC envelope is Envelope/Body/method/parameters: a handful of elements; the qbXML inside is escaped text. */
export const SOAP_ENVELOPE_LIMITS: XmlShapeLimits = { maxDepth: 16, maxElements: 64, maxAttributes: 64 };

/**
 * The qbXML QuickBooks answers inside `receiveResponseXML` (up to 10 MiB). Measured on a 10 MiB CustomerQueryRs built
 * from the real QBWC-log sample: 302,916 elements (13 per record, 35 bytes each), depth 5, 7 attributes. Invoices nest
 * deeper (line groups, lines, DataExt: under 10) and every `*Rs` carries at most 7 attributes, one `*Rs` per request of
 * the message (at most 100). The caps sit well above that and well below what 10 MiB of hostile markup holds (2.6
 * million `<a/>`, 700,000 attributes), whose validation and parsing cost seconds.
 */
export const QBXML_RESPONSE_LIMITS: XmlShapeLimits = { maxDepth: 32, maxElements: 500_000, maxAttributes: 10_000 };

export type XmlShapeVerdict = { ok: true } | { ok: false; reason: string };

export function checkXmlShape(text: string, limits: XmlShapeLimits): XmlShapeVerdict {
  let depth = 0;
  let elements = 0;
  let attributes = 0;
  let at = text.indexOf('<');
  while (at >= 0 && at < text.length) {
    const next = text[at + 1];
    if (text.startsWith('<!--', at)) {
      at = skipPast(text, '-->', at + 4);
    } else if (text.startsWith('<![CDATA[', at)) {
      at = skipPast(text, ']]>', at + 9);
    } else if (next === '?' || next === '!') {
      at = skipPast(text, '>', at + 2);
    } else if (next === '/') {
      depth = Math.max(0, depth - 1);
      at = skipPast(text, '>', at + 2);
    } else {
      // An opening tag: find its end outside quoted attribute values, counting the attributes on the way.
      let quote: string | undefined;
      let i = at + 1;
      for (; i < text.length; i++) {
        const c = text[i];
        if (quote) {
          if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '=') {
          if (++attributes > limits.maxAttributes) {
            return { ok: false, reason: `more than ${limits.maxAttributes} attributes` };
          }
        } else if (c === '>') break;
      }
      if (++elements > limits.maxElements) return { ok: false, reason: `more than ${limits.maxElements} elements` };
      if (text[i - 1] !== '/' && ++depth > limits.maxDepth) {
        return { ok: false, reason: `nested deeper than ${limits.maxDepth} elements` };
      }
      at = i + 1;
    }
    at = at < 0 ? -1 : text.indexOf('<', at);
  }
  return { ok: true };
}

function skipPast(text: string, end: string, from: number): number {
  const found = text.indexOf(end, from);
  return found < 0 ? -1 : found + end.length;
}
