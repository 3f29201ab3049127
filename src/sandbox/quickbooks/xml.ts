import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { QuickBooksParseError } from './parseError';

/** An element of a qbXML request, with its children in document order (order is what the schema checks). */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export interface QbxmlDocument {
  version: string;
  root: XmlElement;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignorePiTags: false,
});

/** Windows-1252's characters beyond Latin-1 (bytes 0x80–0x9F): the only non-Latin-1 text QuickBooks can store. */
const cp1252Extras = new Set([
  0x20ac, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x017d, 0x2018,
  0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x017e, 0x0178,
]);

function storable(cp: number): boolean {
  return cp < 0x80 || (cp >= 0xa0 && cp <= 0xff) || cp1252Extras.has(cp);
}

/**
 * Decodes the five XML entities and numeric references ourselves, so decoding does not depend on parser options.
 * A reference to a character Windows-1252 lacks decodes to `?`, which is what QuickBooks stores for it.
 */
function decodeXmlText(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, ref: string) => {
    switch (ref) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const cp = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        return storable(cp) ? String.fromCodePoint(cp) : '?';
      }
    }
  });
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toElement(node: Record<string, unknown>): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (name === undefined || name === '#text' || name.startsWith('?') || name === '#comment') return undefined;
  const attrs: Record<string, string> = {};
  const rawAttrs = node[':@'];
  if (isRecord(rawAttrs)) {
    for (const [k, v] of Object.entries(rawAttrs)) attrs[k] = decodeXmlText(String(v));
  }
  const children: XmlElement[] = [];
  let text = '';
  const content = node[name];
  if (Array.isArray(content)) {
    for (const child of content) {
      if (!isRecord(child)) continue;
      if ('#text' in child) {
        text += String(child['#text']);
        continue;
      }
      const el = toElement(child);
      if (el) children.push(el);
    }
  }
  if (children.length > 0 && text.trim() !== '') {
    throw new QuickBooksParseError(`mixed content in <${name}>`);
  }
  return { name, attrs, children, text: decodeXmlText(text) };
}

/**
 * Parses a qbXML request the way QuickBooks' request processor does before looking at any request: the text must be
 * well-formed, carry no DTD, and declare a qbXML version the installed QuickBooks understands.
 */
export function parseQbxmlDocument(text: string, maxVersion: number): QbxmlDocument {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new QuickBooksParseError('DTDs are not accepted');
  for (const ch of text) {
    // QuickBooks reads the message as Windows-1252: one character outside it fails the whole message.
    if (!storable(ch.codePointAt(0) ?? 0)) {
      throw new QuickBooksParseError(
        `character U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()} is not Windows-1252`,
      );
    }
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new QuickBooksParseError(`malformed XML: ${valid.err.msg}`);
  const pi = /<\?qbxml\s+version\s*=\s*["']([^"']*)["']\s*\?>/.exec(text);
  if (!pi || pi[1] === undefined) throw new QuickBooksParseError('missing <?qbxml version?> declaration');
  const version = pi[1].trim();
  if (!/^\d+(\.\d+)?$/.test(version)) throw new QuickBooksParseError(`unparseable qbXML version "${version}"`);
  if (Number(version) > maxVersion)
    throw new QuickBooksParseError(`qbXML version ${version} is newer than ${maxVersion}`);
  const parsed: unknown = parser.parse(text);
  if (!Array.isArray(parsed)) throw new QuickBooksParseError('no document element');
  const roots = parsed
    .filter(isRecord)
    .map(toElement)
    .filter((e): e is XmlElement => e !== undefined);
  const root = roots[0];
  if (roots.length !== 1 || !root || root.name !== 'QBXML')
    throw new QuickBooksParseError('document element must be QBXML');
  return { version, root };
}
