/**
 * QuickBooks rejects a whole message (no per-request statuses at all) when the XML does not match the qbXML schema;
 * the Web Connector then reports this HRESULT through receiveResponseXML.
 */
export class QuickBooksParseError extends Error {
  readonly hresult = '0x80040400';
  /** Why the simulator rejected the message; QuickBooks itself only says the fixed message. */
  readonly detail: string;

  constructor(detail: string) {
    super('QuickBooks found an error when parsing the provided XML text stream.');
    this.name = 'QuickBooksParseError';
    this.detail = detail;
  }
}
