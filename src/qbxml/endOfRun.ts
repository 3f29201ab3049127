import { parseXmlDocument } from './xml';

/**
 * How a Web Connector run that has nothing more to send ends as a success. QBWC counts a run as done only when
 * `receiveResponseXML` answers 100; an empty `sendRequestXML` makes it call `getLastError` and show whatever that says
 * as the run's error (reference §5–7). So a run that waited for follow-up work in vain gets one last message: a
 * `HostQueryRq`, which reads nothing from the company file, and its answer is acknowledged with 100.
 */

/** Names the closing HostQuery, so its answer is told apart from any queued request's (ours never start so). */
export const END_OF_RUN_REQUEST_ID = 'qbsync-end-of-run';

/** The closing message, in the qbXML version of the run (HostQuery exists in every version). */
export function endOfRunMessage(version: string): string {
  if (!/^\d{1,2}\.\d{1,2}$/.test(version)) throw new Error(`"${version}" is not a qbXML version like 13.0`);
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="${version}"?>\n` +
    `<QBXML><QBXMLMsgsRq onError="continueOnError"><HostQueryRq requestID="${END_OF_RUN_REQUEST_ID}" />` +
    '</QBXMLMsgsRq></QBXML>'
  );
}

/** True when a qbXML answer holds the closing HostQuery's response and nothing else; false for anything unreadable. */
export function isEndOfRunAnswer(xml: string): boolean {
  if (!xml.includes(END_OF_RUN_REQUEST_ID)) return false;
  try {
    const root = parseXmlDocument(xml);
    const msgs = root.name === 'QBXML' ? root.children.find((c) => c.name === 'QBXMLMsgsRs') : undefined;
    const only = msgs?.children.length === 1 ? msgs.children[0] : undefined;
    return only?.name === 'HostQueryRs' && only.attributes['requestID'] === END_OF_RUN_REQUEST_ID;
  } catch {
    return false;
  }
}
