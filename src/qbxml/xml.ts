/**
 * The one place this module turns text into an XML tree and back. Parsing is deliberately narrow: no DTDs, no
 * entities beyond the five predefined ones and numeric character references, exactly one root element.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { QbxmlSyntaxError } from './errors';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Decoded character data directly inside this element (whitespace between child elements dropped). */
  text: string;
}

// fast-xml-parser decodes no entities here (processEntities: false) so that our own decoder is the only one and
// refuses anything it does not know; DOCTYPEs are rejected before the parser ever sees them.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/**
 * QuickBooks writes Windows-1252 bytes 0x80–0x9F as numeric references (`&#153;` for ™). Read literally they are
 * C1 control characters nobody means, so they are mapped through Windows-1252; the five undefined slots stay as is.
 */
const WINDOWS_1252_C1: ReadonlyMap<number, string> = new Map([
  [0x80, '\u20ac'],
  [0x82, '\u201a'],
  [0x83, '\u0192'],
  [0x84, '\u201e'],
  [0x85, '\u2026'],
  [0x86, '\u2020'],
  [0x87, '\u2021'],
  [0x88, '\u02c6'],
  [0x89, '\u2030'],
  [0x8a, '\u0160'],
  [0x8b, '\u2039'],
  [0x8c, '\u0152'],
  [0x8e, '\u017d'],
  [0x91, '\u2018'],
  [0x92, '\u2019'],
  [0x93, '\u201c'],
  [0x94, '\u201d'],
  [0x95, '\u2022'],
  [0x96, '\u2013'],
  [0x97, '\u2014'],
  [0x98, '\u02dc'],
  [0x99, '\u2122'],
  [0x9a, '\u0161'],
  [0x9b, '\u203a'],
  [0x9c, '\u0153'],
  [0x9e, '\u017e'],
  [0x9f, '\u0178'],
]);

function isAllowedCodePoint(cp: number): boolean {
  if (cp === 0x9 || cp === 0xa || cp === 0xd) return true;
  if (cp < 0x20) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp === 0xfffe || cp === 0xffff) return false;
  return cp <= 0x10ffff;
}

/** Decodes the five predefined entities and numeric references; anything else is an error, never passed through. */
export function decodeXmlText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new QbxmlSyntaxError(`Bare "&" or unterminated reference near "${whole}"`);
    const named = PREDEFINED_ENTITIES[body];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (!numeric) throw new QbxmlSyntaxError(`Unknown entity reference "&${body};"`);
    const cp = numeric[1] !== undefined ? parseInt(numeric[1], 16) : parseInt(numeric[2] ?? '', 10);
    if (!isAllowedCodePoint(cp)) throw new QbxmlSyntaxError(`Character reference "&${body};" is not allowed in XML`);
    return WINDOWS_1252_C1.get(cp) ?? String.fromCodePoint(cp);
  });
}

/** Escapes all five XML specials so the result is safe in text and in either kind of quoted attribute. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

/** True when the string holds a character no XML document may contain (control characters, lone surrogates). */
export function hasForbiddenXmlChar(value: string): boolean {
  for (const ch of value) {
    // for…of yields whole code points, so a lone surrogate shows up as one unit in the surrogate range.
    if (!isAllowedCodePoint(ch.codePointAt(0) ?? 0)) return true;
  }
  return false;
}

type OrderedNode = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toElement(name: string, node: OrderedNode): XmlElement {
  const attributes: Record<string, string> = {};
  const rawAttrs = node[':@'];
  if (isRecord(rawAttrs)) {
    for (const [key, value] of Object.entries(rawAttrs)) {
      attributes[key] = decodeXmlText(String(value));
    }
  }
  const children: XmlElement[] = [];
  let text = '';
  const content = node[name];
  for (const child of Array.isArray(content) ? content : []) {
    if (!isRecord(child)) continue;
    if ('#text' in child) {
      text += decodeXmlText(String(child['#text']));
    } else if ('#cdata' in child) {
      const parts = child['#cdata'];
      for (const part of Array.isArray(parts) ? parts : []) {
        if (isRecord(part) && '#text' in part) text += String(part['#text']);
      }
    } else {
      const childName = Object.keys(child).find((k) => k !== ':@');
      if (childName !== undefined) children.push(toElement(childName, child));
    }
  }
  // Indentation between child elements is layout, not data.
  if (children.length > 0 && text.trim() === '') text = '';
  return { name, attributes, children, text };
}

/**
 * Parses a complete XML document and returns its root element. Refuses DTDs and entity declarations (entity
 * bombs, external entities), malformed markup, an XML declaration anywhere but the start, and multiple roots.
 */
export function parseXmlDocument(xml: string): XmlElement {
  const text = xml.startsWith('\ufeff') ? xml.slice(1) : xml;
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new QbxmlSyntaxError('DOCTYPE and ENTITY declarations are not accepted');
  }
  if (/<\?xml[\s?]/i.test(text.slice(1))) {
    throw new QbxmlSyntaxError('An XML declaration is only allowed at the very start of the document');
  }
  if (hasForbiddenXmlChar(text)) {
    throw new QbxmlSyntaxError('The document contains a character XML does not allow');
  }
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    throw new QbxmlSyntaxError(`Malformed XML at line ${line}, column ${col ?? '?'}: ${msg}`);
  }
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (error) {
    // The validator and the parser disagree on a few malformed inputs (an unclosed `<?xml ...` found by fuzzing):
    // whatever the parser refuses is still a syntax error of the document, not a crash of ours.
    throw new QbxmlSyntaxError(`Malformed XML: ${error instanceof Error ? error.message : String(error)}`);
  }
  const roots: XmlElement[] = [];
  for (const node of Array.isArray(parsed) ? parsed : []) {
    if (!isRecord(node)) continue;
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || name === '#text') continue;
    if (name.startsWith('?') || name === '#cdata') continue;
    roots.push(toElement(name, node));
  }
  if (roots.length !== 1) {
    throw new QbxmlSyntaxError(`Expected exactly one root element, found ${roots.length}`);
  }
  return roots[0] as XmlElement;
}
