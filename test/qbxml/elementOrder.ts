/** Reading element order out of XML, so tests compare structure rather than bytes. */
import { parseXmlDocument, type XmlElement } from '../../src/qbxml/xml';

/** Names of the direct children of `el`, in document order. */
export function childNames(el: XmlElement): string[] {
  return el.children.map((c) => c.name);
}

/** Depth-first names of every element below `el` (not `el` itself), in document order. */
export function descendantNames(el: XmlElement): string[] {
  return el.children.flatMap((c) => [c.name, ...descendantNames(c)]);
}

/** The `*Rq` elements of a qbXML request document, in order. */
export function requestElements(xml: string): XmlElement[] {
  const root = parseXmlDocument(xml);
  const msgs = root.children.find((c) => c.name === 'QBXMLMsgsRq');
  if (!msgs) throw new Error('no QBXMLMsgsRq');
  return msgs.children;
}

/** The body aggregate inside a write request (`CustomerAddRq/CustomerAdd`). */
export function bodyOf(rq: XmlElement): XmlElement {
  const body = rq.children[0];
  if (!body) throw new Error(`${rq.name} has no body`);
  return body;
}

export function child(el: XmlElement, name: string): XmlElement {
  const found = el.children.find((c) => c.name === name);
  if (!found) throw new Error(`${el.name} has no ${name}`);
  return found;
}
