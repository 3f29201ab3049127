import assert from 'node:assert/strict';
import { buildQbxmlMessage, buildQbxmlRequest } from '../../src/qbxml/build';
import { QbxmlFieldError } from '../../src/qbxml/errors';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { QbxmlRequest, QbxmlResponse } from '../../src/qbxml/requests';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';

/**
 * What the codec tests of the transactions made from Dynamics records (estimates, sales orders) share: a small company
 * file to send them to, and the check that the codec refuses what QuickBooks would refuse before anything is sent.
 */

/** The Dynamics record id a transaction carries as its ExternalGUID. */
export const RECORD_GUID = '{3F2504E0-4F89-11D3-9A0C-0305E82C3301}';

/** A company file holding the named customers and one service item, Labor at 33.33, on a fixed clock. */
export function companyFileWith(name: string, customers: readonly string[]): CompanyFileSimulator {
  const s = new CompanyFileSimulator({ name, now: () => new Date('2024-03-01T17:00:00Z') });
  s.processRequest(
    buildQbxmlMessage([
      ...customers.map((customer, i): QbxmlRequest => ({
        type: 'CustomerAdd',
        requestId: `c${i}`,
        fields: { name: customer },
      })),
      {
        type: 'ItemServiceAdd',
        requestId: 'i',
        fields: { name: 'Labor', salesOrPurchase: { price: '33.33', accountRef: { fullName: 'Service Income' } } },
      },
    ]),
  );
  return s;
}

/** The requests in one message to the company file, and its answers. */
export function send(s: CompanyFileSimulator, ...requests: QbxmlRequest[]): QbxmlResponse[] {
  return parseQbxmlResponse(s.processRequest(buildQbxmlMessage(requests)));
}

/** Each request is refused by the codec with a field error naming what matches its pattern. */
export function assertRefusedBeforeSending(refused: ReadonlyArray<readonly [QbxmlRequest, RegExp]>): void {
  for (const [request, field] of refused) {
    assert.throws(
      () => buildQbxmlRequest(request),
      (e: unknown) => e instanceof QbxmlFieldError && field.test(e.message),
      JSON.stringify(request),
    );
  }
}
