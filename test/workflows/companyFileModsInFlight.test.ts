import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QbxmlResult } from '../../src/workflows/companyFile/messages';
import type { CustomerRet, QbxmlRequest } from '../../src/qbxml/requests';
import {
  MAX_MODS_IN_FLIGHT,
  holdsModFields,
  modsInFlightSent,
  newCompanyFileState,
  ownWritesInReads,
  recordsRead,
  type CompanyFileState,
} from '../../src/workflows/companyFile/companyFileState';

/** Issue 11: the version a Mod made whose answer was lost is known as the connector's own from the first read of it. */

const customer = (fields: Partial<CustomerRet>): CustomerRet =>
  ({ kind: 'Customer', listId: '80000001-1', editSequence: '100', name: 'Harbor', ...fields }) as CustomerRet;

const mod = (requestId: string, fields: Record<string, unknown>): QbxmlRequest =>
  ({
    type: 'CustomerMod',
    requestId,
    fields: { listId: '80000001-1', editSequence: '100', ...fields },
  }) as QbxmlRequest;

function sent(state: CompanyFileState, ...requests: QbxmlRequest[]): void {
  state.inFlight = requests.map((request) => ({ request, requester: 'dv/account/1', batchId: 'b' }));
  modsInFlightSent(state);
}

const read = (requestId: string, ...records: CustomerRet[]): QbxmlResult => ({
  requestId,
  kind: 'response',
  final: true,
  response: { requestId, type: 'CustomerQueryRs', statusCode: 0, statusSeverity: 'Info', statusMessage: '', records },
});
const lost = (requestId: string): QbxmlResult => ({ requestId, kind: 'outcomeUnknown', reason: 'session cut' });

describe('Mods in flight (company file state)', () => {
  it('a read holding every field of a Mod whose answer was lost is the connector’s own version, once', () => {
    const state = newCompanyFileState('east');
    sent(state, mod('w', { phone: '555-1308' }));
    assert.deepEqual(ownWritesInReads(state, [lost('w')]), {});

    const applied = customer({ editSequence: '101', phone: '555-1308' });
    assert.deepEqual(ownWritesInReads(state, [read('poll', applied)]), { '80000001-1': '101' });
    // Settled by that read: a later version holding the same phone (a person typing it again) is not taken.
    assert.deepEqual(
      ownWritesInReads(state, [read('poll-2', customer({ editSequence: '102', phone: '555-1308' }))]),
      {},
    );
  });

  it("a read whose version differs in a field the Mod set is a person's edit (or the Mod never arrived)", () => {
    const state = newCompanyFileState('east');
    sent(state, mod('w', { phone: '555-1308', email: 'desk@harbor.example' }));
    ownWritesInReads(state, [lost('w')]);
    const edited = customer({ editSequence: '102', phone: '555-7777', email: 'desk@harbor.example' });
    assert.deepEqual(ownWritesInReads(state, [read('poll', edited)]), {});
    assert.deepEqual(state.modsInFlight, {});
  });

  it('the Mod’s own answer settles it, applied or refused', () => {
    const state = newCompanyFileState('east');
    sent(state, mod('w', { phone: '555-1308' }));
    const refused: QbxmlResult = {
      requestId: 'w',
      kind: 'response',
      final: true,
      response: {
        requestId: 'w',
        type: 'CustomerModRs',
        statusCode: 3200,
        statusSeverity: 'Error',
        statusMessage: '',
        records: [],
      },
    };
    assert.deepEqual(ownWritesInReads(state, [refused]), {});
    assert.deepEqual(ownWritesInReads(state, [read('poll', customer({ editSequence: '101', phone: '555-1308' }))]), {});
  });

  it('compares references and addresses by the parts the Mod gave, and an emptied field as absent', () => {
    const fields = { customerTypeRef: { listId: 'T1' }, billAddress: { city: 'Bath' }, fax: '' };
    assert.equal(
      holdsModFields(fields, {
        customerTypeRef: { listId: 'T1', fullName: 'Retail' },
        billAddress: { addr1: '1 Quay', city: 'Bath' },
      }),
      true,
    );
    assert.equal(holdsModFields(fields, { customerTypeRef: { listId: 'T2' }, billAddress: { city: 'Bath' } }), false);
    assert.equal(
      holdsModFields(fields, { customerTypeRef: { listId: 'T1' }, billAddress: { city: 'Bath' }, fax: '1' }),
      false,
    );
    assert.equal(holdsModFields({ listId: 'x', editSequence: '1', isActive: false }, { isActive: false }), true);
    // Text QuickBooks cannot hold comes back romanised; anything else different is not the Mod's.
    assert.equal(holdsModFields({ companyName: 'Ελληνικά ΑΕ' }, { companyName: 'Ellinika AE' }), true);
    assert.equal(holdsModFields({ companyName: 'Ελληνικά ΑΕ' }, { companyName: 'Ellinika' }), false);
  });

  it('keeps at most MAX_MODS_IN_FLIGHT markers, dropping the oldest; only list records’ Mods are marked', () => {
    const state = newCompanyFileState('east');
    for (let i = 0; i <= MAX_MODS_IN_FLIGHT; i++) {
      sent(state, {
        type: 'CustomerMod',
        requestId: `w${i}`,
        fields: { listId: `L${i}`, editSequence: '1', phone: '1' },
      });
    }
    sent(state, { type: 'InvoiceMod', requestId: 'inv', fields: { txnId: 'T', editSequence: '1' } } as QbxmlRequest);
    const marked = Object.keys(state.modsInFlight ?? {});
    assert.equal(marked.length, MAX_MODS_IN_FLIGHT);
    assert.ok(!marked.includes('L0'));
    assert.ok(marked.includes(`L${MAX_MODS_IN_FLIGHT}`));
  });
});

describe('the records a delivery reads (the own writes it carries are theirs)', () => {
  it('are those of the reads, not of a write’s own answer nor of a result without a response', () => {
    const modAnswer: QbxmlResult = {
      requestId: 'w',
      kind: 'response',
      final: true,
      response: {
        requestId: 'w',
        type: 'CustomerModRs',
        statusCode: 0,
        statusSeverity: 'Info',
        statusMessage: '',
        records: [customer({ listId: 'modded', editSequence: '101' })],
      },
    };
    const invoices: QbxmlResult = {
      requestId: 'poll-Invoice',
      kind: 'response',
      final: false,
      response: {
        requestId: 'poll-Invoice',
        type: 'InvoiceQueryRs',
        statusCode: 0,
        statusSeverity: 'Info',
        statusMessage: '',
        records: [{ kind: 'Invoice', txnId: 'T-1', editSequence: '7' } as unknown as CustomerRet],
      },
    };
    assert.deepEqual(
      recordsRead([
        read('poll-Customer', customer({ listId: 'A' }), customer({ listId: 'B' })),
        modAnswer,
        invoices,
        lost('x'),
      ]),
      ['A', 'B', 'T-1'],
    );
  });
});
