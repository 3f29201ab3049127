/**
 * Public API of the qbXML codec: request/response types, builder, parser and the errors callers act on.
 * Workflow code must import `qbxml/requests` and `qbxml/errors` directly: this index also pulls in the XML
 * parser and the logger, which do not belong in the deterministic workflow sandbox.
 */
export * from './requests';
export * from './errors';
export * from './charset';
export * from './valueFormats';
export { buildQbxmlMessage, type BuildOptions, type OnErrorMode } from './build';
export { parseQbxmlResponse, camelCaseElementName } from './parse';
export { type XmlElement } from './xml';
