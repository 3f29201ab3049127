import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlRequest } from '../../src/qbxml/build';
import { QbxmlFieldError } from '../../src/qbxml/errors';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { ListDelType } from '../../src/qbxml/requests';

describe('ListDeletedQuery', () => {
  it('writes the types first, then the deleted-date range (qbXML 13 order)', () => {
    assert.equal(
      buildQbxmlRequest({
        type: 'ListDeletedQuery',
        requestId: 'r1',
        listDelTypes: ['Customer', 'ItemService'],
        fromDeletedDate: '2024-03-01T09:30:00-08:00',
      }),
      '<ListDeletedQueryRq requestID="r1"><ListDelType>Customer</ListDelType><ListDelType>ItemService</ListDelType>' +
        '<DeletedDateRangeFilter><FromDeletedDate>2024-03-01T09:30:00-08:00</FromDeletedDate></DeletedDateRangeFilter>' +
        '</ListDeletedQueryRq>',
    );
  });

  it('refuses a query without a type or with a type QuickBooks does not know', () => {
    assert.throws(
      () => buildQbxmlRequest({ type: 'ListDeletedQuery', requestId: 'r', listDelTypes: [] }),
      QbxmlFieldError,
    );
    assert.throws(
      () => buildQbxmlRequest({ type: 'ListDeletedQuery', requestId: 'r', listDelTypes: ['Spaceship' as ListDelType] }),
      QbxmlFieldError,
    );
  });

  it('reads ListDeletedRet', () => {
    const [rs] = parseQbxmlResponse(
      '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><ListDeletedQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">' +
        '<ListDeletedRet><ListDelType>Customer</ListDelType><ListID>80000030-1203622308</ListID>' +
        '<TimeCreated>2008-02-21T14:31:48-05:00</TimeCreated><TimeDeleted>2008-03-18T17:31:12-05:00</TimeDeleted>' +
        '<FullName>Joe Schmoe</FullName></ListDeletedRet></ListDeletedQueryRs></QBXMLMsgsRs></QBXML>',
    );
    assert.deepEqual(rs?.records, [
      {
        kind: 'ListDeleted',
        listDelType: 'Customer',
        listId: '80000030-1203622308',
        timeCreated: '2008-02-21T14:31:48-05:00',
        timeDeleted: '2008-03-18T17:31:12-05:00',
        fullName: 'Joe Schmoe',
      },
    ]);
  });
});

describe('TxnDeletedQuery', () => {
  it('asks for deleted invoices from a date, and refuses a type the connector does not read', () => {
    assert.equal(
      buildQbxmlRequest({
        type: 'TxnDeletedQuery',
        requestId: 't',
        txnDelTypes: ['Invoice'],
        fromDeletedDate: '2024-03-01',
      }),
      '<TxnDeletedQueryRq requestID="t"><TxnDelType>Invoice</TxnDelType>' +
        '<DeletedDateRangeFilter><FromDeletedDate>2024-03-01</FromDeletedDate></DeletedDateRangeFilter></TxnDeletedQueryRq>',
    );
    assert.throws(
      () => buildQbxmlRequest({ type: 'TxnDeletedQuery', requestId: 't', txnDelTypes: ['Bill' as 'Invoice'] }),
      QbxmlFieldError,
    );
  });

  it('reads TxnDeletedRet', () => {
    const [rs] = parseQbxmlResponse(
      '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><TxnDeletedQueryRs requestID="1" statusCode="0" statusSeverity="Info" statusMessage="Status OK">' +
        '<TxnDeletedRet><TxnDelType>Invoice</TxnDelType><TxnID>1A-1203622308</TxnID>' +
        '<TimeCreated>2008-02-21T14:31:48-05:00</TimeCreated><TimeDeleted>2008-03-18T17:31:12-05:00</TimeDeleted>' +
        '<RefNumber>01001</RefNumber></TxnDeletedRet></TxnDeletedQueryRs></QBXMLMsgsRs></QBXML>',
    );
    assert.deepEqual(rs?.records, [
      {
        kind: 'TxnDeleted',
        txnDelType: 'Invoice',
        txnId: '1A-1203622308',
        timeCreated: '2008-02-21T14:31:48-05:00',
        timeDeleted: '2008-03-18T17:31:12-05:00',
        refNumber: '01001',
      },
    ]);
  });
});
