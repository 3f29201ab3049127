/**
 * The qbXML versions QuickBooks Desktop (US) has shipped, oldest first, as a current QuickBooks lists them in its
 * HostQuery answer (`SupportedQBXMLVersion`). 9.0 is left out: it was issued for QuickBooks Online Edition only
 * (assumption, docs/quickbooks.md). A QuickBooks supports every version up to its newest.
 */
const QBXML_VERSIONS = [
  '1.0',
  '1.1',
  '2.0',
  '2.1',
  '3.0',
  '4.0',
  '4.1',
  '5.0',
  '6.0',
  '7.0',
  '8.0',
  '10.0',
  '11.0',
  '12.0',
  '13.0',
  '14.0',
  '15.0',
  '16.0',
] as const;

/**
 * The newest qbXML a simulated QuickBooks speaks unless told otherwise: 16.0, QuickBooks Desktop 2021 and later
 * (assumption: no newer version is published; docs/quickbooks.md).
 */
export const DEFAULT_SIMULATED_QBXML_VERSION = '16.0';

/** The versions a QuickBooks whose newest is `newest` accepts. */
export function qbxmlVersionsUpTo(newest: string): string[] {
  return QBXML_VERSIONS.filter((v) => Number(v) <= Number(newest));
}

/** Whether `version` is one QuickBooks knows at all (`13.5` is not). */
export function isQbxmlVersion(version: string): boolean {
  return (QBXML_VERSIONS as readonly string[]).includes(version);
}
