import { parseXmlDocument, type XmlElement } from '../../qbxml/xml';
import type { WebConnectorReport } from '../../workflows/companyFile/messages';

const MAX_FIELD = 200;

function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

function clip(value: string): string {
  return value.trim().slice(0, MAX_FIELD);
}

/**
 * What the first `sendRequestXML` of a run says about the QuickBooks behind the Web Connector: the company file path,
 * the qbXML version of the call and, from `strHCPResponse`, QuickBooks' HostQuery answer. An unreadable host answer
 * leaves the QuickBooks part out rather than failing the call: these are facts for `qbsync check`, not for the sync.
 * Undefined on later calls of a run, which carry no host answer.
 */
export function webConnectorReport(fields: {
  hcpResponse: string;
  companyFileName: string;
  country: string;
  qbxmlMajor: number;
  qbxmlMinor: number;
}): WebConnectorReport | undefined {
  if (fields.hcpResponse.trim() === '') return undefined;
  const report: WebConnectorReport = {
    companyFilePath: clip(fields.companyFileName),
    qbxmlVersion: `${Number.isFinite(fields.qbxmlMajor) ? fields.qbxmlMajor : '?'}.${Number.isFinite(fields.qbxmlMinor) ? fields.qbxmlMinor : 0}`,
    ...(fields.country.trim() ? { country: clip(fields.country) } : {}),
  };
  try {
    const root = parseXmlDocument(fields.hcpResponse);
    const host = child(child(child(root, 'QBXMLMsgsRs'), 'HostQueryRs'), 'HostRet');
    if (host) {
      const major = child(host, 'MajorVersion')?.text ?? '';
      const minor = child(host, 'MinorVersion')?.text ?? '';
      report.quickbooks = {
        product: clip(child(host, 'ProductName')?.text ?? ''),
        version: clip(minor ? `${major}.${minor}` : major),
        supportedQbxmlVersions: host.children
          .filter((c) => c.name === 'SupportedQBXMLVersion')
          .map((c) => clip(c.text))
          .slice(0, 50),
      };
    }
  } catch {
    // An unreadable host answer: the path and version above are still worth keeping.
  }
  return report;
}
