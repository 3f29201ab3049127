/** Public API of the qbXML codec: request/response types, builder, parser and the errors callers act on. */
export * from './requests';
export * from './errors';
export {
  buildQbxmlMessage,
  buildQbxmlRequest,
  DEFAULT_QBXML_VERSION,
  type BuildOptions,
  type OnErrorMode,
} from './build';
export { parseQbxmlResponse, camelCaseElementName } from './parse';
export { parseXmlDocument, escapeXml, decodeXmlText, hasForbiddenXmlChar, type XmlElement } from './xml';
