import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage, type QbxmlOmission } from '../../src/qbxml/build';
import type { QbxmlRequest } from '../../src/qbxml/requests';
import { chooseQbxmlVersion, introducedIn, MIN_CONNECTOR_QBXML_VERSION } from '../../src/qbxml/versions';
import { CompanyFileSimulator, QuickBooksParseError } from '../../src/sandbox/quickbooks/companyFile';
import { parseQbxmlResponse } from '../../src/qbxml/parse';

const inventoryItem: QbxmlRequest = {
  type: 'ItemInventoryAdd',
  requestId: 'inv-1',
  fields: {
    name: 'Widget',
    classRef: { fullName: 'East' },
    manufacturerPartNumber: 'W-1',
    salesPrice: '10.00',
    incomeAccountRef: { fullName: 'Sales' },
    cogsAccountRef: { fullName: 'Cost of Goods Sold' },
    assetAccountRef: { fullName: 'Inventory Asset' },
    reorderPoint: '5',
    max: '50',
    externalGuid: '{6B29FC40-CA47-1067-B31D-00DD010662DA}',
  },
};

const customer: QbxmlRequest = {
  type: 'CustomerAdd',
  requestId: 'cust-1',
  fields: {
    name: 'Acme',
    jobTitle: 'Buyer',
    lastName: 'Smith',
    cc: 'cc@example.com',
    preferredDeliveryMethod: 'Email',
    externalGuid: '{6B29FC40-CA47-1067-B31D-00DD010662DA}',
    currencyRef: { fullName: 'US Dollar' },
  },
};

describe('qbXML version choice', () => {
  it('picks the highest version both the connector and QuickBooks speak', () => {
    assert.deepEqual(chooseQbxmlVersion(16, 0), { kind: 'chosen', version: '16.0' });
    assert.deepEqual(chooseQbxmlVersion(13, 0), { kind: 'chosen', version: '13.0' });
    // A QuickBooks newer than the connector's newest version is written the connector's newest.
    assert.deepEqual(chooseQbxmlVersion(17, 0), { kind: 'chosen', version: '16.0' });
    // QuickBooks' own HostQuery list limits it further: a version the list lacks is never chosen.
    assert.deepEqual(chooseQbxmlVersion(16, 0, ['12.0', '13.0', '14.0']), { kind: 'chosen', version: '14.0' });
    // The Web Connector leaving the version out: the list alone decides.
    assert.deepEqual(chooseQbxmlVersion(Number.NaN, Number.NaN, ['12.0', '13.0']), {
      kind: 'chosen',
      version: '13.0',
    });
  });

  it('refuses a QuickBooks older than the connector minimum, naming both versions', () => {
    const choice = chooseQbxmlVersion(11, 0, ['10.0', '11.0']);
    assert.equal(choice.kind, 'refused');
    assert.ok(choice.kind === 'refused');
    assert.match(choice.reason, /qbXML 11\.0/);
    assert.match(choice.reason, new RegExp(`qbXML ${MIN_CONNECTOR_QBXML_VERSION.replace('.', '\\.')} or newer`));
    assert.match(choice.reason, /QuickBooks 2013/);
    assert.equal(chooseQbxmlVersion(8, 0).kind, 'refused');
  });

  it('keeps ExternalGUID, the invoice link, in every version the connector writes', () => {
    assert.ok(introducedIn('InvoiceAdd', 'ExternalGUID') <= Number(MIN_CONNECTOR_QBXML_VERSION));
    assert.ok(introducedIn('CustomerAdd', 'ClassRef') <= Number(MIN_CONNECTOR_QBXML_VERSION));
    assert.ok(introducedIn('CustomerAdd', 'JobTitle') <= Number(MIN_CONNECTOR_QBXML_VERSION));
  });
});

describe('builder per qbXML version', () => {
  it('leaves out what the version lacks, reports it by name, and keeps everything else', () => {
    const omitted: QbxmlOmission[] = [];
    const v12 = buildQbxmlMessage([inventoryItem], { version: '12.0', onOmitted: (o) => omitted.push(o) });
    assert.match(v12, /<\?qbxml version="12.0"\?>/);
    assert.doesNotMatch(v12, /<Max>/);
    assert.match(v12, /<ReorderPoint>5<\/ReorderPoint>/);
    assert.match(v12, /<ClassRef>/);
    assert.match(v12, /<ExternalGUID>/);
    assert.deepEqual(omitted, [{ requestId: 'inv-1', requestType: 'ItemInventoryAdd', field: 'max', version: '12.0' }]);
    const v13 = buildQbxmlMessage([inventoryItem], { version: '13.0', onOmitted: (o) => omitted.push(o) });
    assert.match(v13, /<Max>50<\/Max>/);
    assert.equal(omitted.length, 1);
  });

  it('writes every 12.0 element of a customer at 12.0', () => {
    const omitted: QbxmlOmission[] = [];
    const xml = buildQbxmlMessage([customer], { version: '12.0', onOmitted: (o) => omitted.push(o) });
    for (const el of ['JobTitle', 'Cc', 'PreferredDeliveryMethod', 'ExternalGUID', 'CurrencyRef']) {
      assert.match(xml, new RegExp(`<${el}>`), el);
    }
    assert.deepEqual(omitted, []);
  });
});

/** QuickBooks' whole-message refusal (0x80040400) whose simulator detail matches `detail`. */
const parseFailure =
  (detail: RegExp) =>
  (err: unknown): boolean =>
    err instanceof QuickBooksParseError && err.hresult === '0x80040400' && detail.test(err.detail);

describe('simulated QuickBooks per qbXML version', () => {
  const statusOf = (file: CompanyFileSimulator, req: QbxmlRequest, version: string) => {
    const [rs] = parseQbxmlResponse(file.processRequest(buildQbxmlMessage([req], { version })));
    return rs?.statusCode;
  };

  it('accepts 13.0 to 16.0 and refuses a version newer than itself as a parse failure', () => {
    const file = new CompanyFileSimulator({ name: 'versions-16' });
    for (const [i, version] of ['13.0', '14.0', '15.0', '16.0'].entries()) {
      assert.equal(statusOf(file, { ...customer, fields: { ...customer.fields, name: `Acme ${i}` } }, version), 0);
    }
    const old = new CompanyFileSimulator({ name: 'versions-13', qbxmlVersion: '13.0' });
    assert.throws(
      () => old.processRequest(buildQbxmlMessage([customer], { version: '14.0' })),
      parseFailure(/newer than 13/),
    );
  });

  it('refuses an element newer than the version the message declares, as QuickBooks does (0x80040400)', () => {
    const file = new CompanyFileSimulator({ name: 'versions-elements' });
    // The connector's builder at 13.0 writes Max; declared as 12.0 the same body is refused.
    const at13 = buildQbxmlMessage([inventoryItem], { version: '13.0' });
    assert.throws(
      () => file.processRequest(at13.replace('version="13.0"', 'version="12.0"')),
      parseFailure(/unexpected element <Max>/),
    );
    // JobTitle does not exist before 12.0.
    const at12 = buildQbxmlMessage([customer], { version: '12.0' });
    assert.throws(
      () => file.processRequest(at12.replace('version="12.0"', 'version="11.0"')),
      parseFailure(/JobTitle/),
    );
    // A version QuickBooks never shipped.
    assert.throws(
      () => file.processRequest(at12.replace('version="12.0"', 'version="12.5"')),
      parseFailure(/does not exist/),
    );
    // What the builder writes for 12.0 passes the 12.0 schema (the request is answered, not refused whole).
    assert.doesNotThrow(() => file.processRequest(buildQbxmlMessage([inventoryItem], { version: '12.0' })));
  });
});
