/**
 * Which qbXML version the connector writes to a given QuickBooks, and which of the builder's elements each version
 * has. QuickBooks validates a request against the version its `<?qbxml version?>` names: an element that version does
 * not know fails the whole message with 0x80040400, and a version newer than the installed QuickBooks fails it too.
 */

/**
 * The versions the connector writes, oldest first. 12.0 (QuickBooks 2013) is the floor: below it customers and vendors
 * have no `JobTitle`, `ClassRef`, `Cc` or `PreferredDeliveryMethod`, and a record read without them would look to the
 * merge as if QuickBooks had cleared them (a Dynamics contact's job title would be erased). `ExternalGUID`, on which
 * the invoice idempotency rests (the order's link on the invoice), exists from 8.0, so every version written here has
 * it and no fallback is needed. 14.0–16.0 add nothing the connector writes; they are accepted so that a current
 * QuickBooks is spoken to in its newest version.
 */
export const CONNECTOR_QBXML_VERSIONS = ['12.0', '13.0', '14.0', '15.0', '16.0'] as const;
export type ConnectorQbxmlVersion = (typeof CONNECTOR_QBXML_VERSIONS)[number];
export const MIN_CONNECTOR_QBXML_VERSION: ConnectorQbxmlVersion = '12.0';

/**
 * The version each element the builder writes first appeared in, where that is after 1.0, as the qbXML 13.0 on-screen
 * reference (sample `qbxmlops130.xml`, `vN.N` notes) gives it. Keyed `Parent/Element` so that an element introduced
 * in one request but older in another stays exact; `*` matches any parent. Elements not listed are as old as 1.0–8.0
 * and so present in every version the connector writes.
 */
const INTRODUCED: ReadonlyArray<readonly [path: string, version: number]> = [
  // Customers and vendors (qbXML 12.0, QuickBooks 2013: contacts, classes on names, job titles).
  ['CustomerAdd/ClassRef', 12],
  ['CustomerMod/ClassRef', 12],
  ['VendorAdd/ClassRef', 12],
  ['VendorMod/ClassRef', 12],
  ['*/JobTitle', 12],
  ['*/Cc', 12],
  ['*/PreferredDeliveryMethod', 12],
  // Items (12.0: bar codes, classes, manufacturer part numbers; 13.0: the inventory maximum).
  ['*/BarCode', 12],
  ['ItemServiceAdd/ClassRef', 12],
  ['ItemServiceMod/ClassRef', 12],
  ['ItemNonInventoryAdd/ClassRef', 12],
  ['ItemNonInventoryMod/ClassRef', 12],
  ['ItemInventoryAdd/ClassRef', 12],
  ['ItemInventoryMod/ClassRef', 12],
  ['*/ManufacturerPartNumber', 12],
  ['ItemInventoryAdd/Max', 13],
  ['ItemInventoryMod/Max', 13],
  // Present since 8.0 (multicurrency, ExternalGUID): below the floor, listed so the table says why they are safe.
  ['*/ExternalGUID', 8],
  ['*/CurrencyRef', 8],
  ['*/ExchangeRate', 8],
];

/** `"13.0"` → 13; `"13.1"` → 13.1. */
function versionNumber(version: string): number {
  return Number(version);
}

/** The version `element` (inside `parent`) first appeared in; 1 when it is as old as qbXML itself. */
export function introducedIn(parent: string, element: string): number {
  for (const [path, version] of INTRODUCED) {
    const [p, e] = path.split('/') as [string, string];
    if (e === element && (p === '*' || p === parent)) return version;
  }
  return 1;
}

/** Whether qbXML `version` has `element` inside `parent`. */
export function versionHas(version: string, parent: string, element: string): boolean {
  return introducedIn(parent, element) <= versionNumber(version);
}

export type VersionChoice =
  { kind: 'chosen'; version: ConnectorQbxmlVersion } | { kind: 'refused'; reason: string; offered: string };

/**
 * The highest version both the connector and QuickBooks speak. `major`/`minor` are what the Web Connector reports in
 * `sendRequestXML` (the newest version QuickBooks' request processor takes); `supported` is QuickBooks' own
 * HostQuery list (`SupportedQBXMLVersion`), present on a run's first call only. Either limits the choice. A version
 * the Web Connector leaves out (0 or not a number) is read as "not reported": the list alone decides, else the newest
 * the connector writes is tried and QuickBooks' own answer (0x80040400) shows the operator the cause.
 */
export function chooseQbxmlVersion(major: number, minor: number, supported?: readonly string[]): VersionChoice {
  const reported = Number.isFinite(major) && major > 0;
  const ceiling = reported ? major + (Number.isFinite(minor) && minor > 0 ? minor / 10 : 0) : Infinity;
  const listed = supported !== undefined && supported.length > 0 ? new Set(supported.map((v) => v.trim())) : undefined;
  const candidates = CONNECTOR_QBXML_VERSIONS.filter(
    (v) => versionNumber(v) <= ceiling && (listed === undefined || listed.has(v)),
  );
  const chosen = candidates[candidates.length - 1];
  if (chosen !== undefined) return { kind: 'chosen', version: chosen };
  const offered = reported
    ? `${major}.${Number.isFinite(minor) ? minor : 0}`
    : [...(listed ?? [])].join(', ') || 'none reported';
  return {
    kind: 'refused',
    offered,
    reason:
      `This QuickBooks offers qbXML ${offered}; the connector needs qbXML ${MIN_CONNECTOR_QBXML_VERSION} or newer ` +
      `(QuickBooks 2013 or later). Nothing was sent to QuickBooks. Update QuickBooks (or its SDK components), then ` +
      `run the Web Connector again.`,
  };
}
