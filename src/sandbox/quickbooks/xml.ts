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

/** Decodes the five XML entities and numeric references ourselves, so decoding does not depend on parser options. */
export function decodeXmlText(raw: string): string {
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
      default:
        return String.fromCodePoint(ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
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
