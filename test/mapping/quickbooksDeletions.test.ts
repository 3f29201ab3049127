import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountChange, productChange } from '../../src/mapping/dynamicsToQuickBooks';
import { cursorAfter, unseen } from '../../src/mapping/quickbooksChanges';
import {
  DELETIONS_CURSOR,
  deletedInvoiceOnOrder,
  deletedListEntity,
  deletionsByEntity,
  INVOICE_DELETIONS_CURSOR,
  planDeletedRow,
} from '../../src/mapping/quickbooksDeletions';
import type { ListDeletedRet, TxnDeletedRet } from '../../src/qbxml/requests';

const deleted = (listDelType: string, listId: string, timeDeleted: string): ListDeletedRet => ({
  kind: 'ListDeleted',
  listDelType,
  listId,
  timeDeleted,
});

describe('QuickBooks deletions', () => {
  it('each synced list type goes to its record workflow; other lists are not ours', () => {
    assert.equal(deletedListEntity('Customer'), 'customer');
    assert.equal(deletedListEntity('Vendor'), 'vendor');
    for (const t of ['ItemService', 'ItemNonInventory', 'ItemInventory']) assert.equal(deletedListEntity(t), 'item');
    assert.equal(deletedListEntity('ItemDiscount'), null);
    assert.equal(deletedListEntity('CustomerType'), null);
    const by = deletionsByEntity([
      deleted('Customer', 'C1', '2024-03-01T10:00:00-08:00'),
      deleted('ItemService', 'I1', '2024-03-01T10:00:00-08:00'),
      deleted('Class', 'K1', '2024-03-01T10:00:00-08:00'),
    ]);
    assert.deepEqual([...by.keys()], ['customer', 'item']);
  });

  it('the paired row is deactivated and marked with the time of the deletion; a second read changes nothing', () => {
    const plan = planDeletedRow('account', { statecode: 0 }, '2024-03-01T10:00:00-08:00');
    assert.equal(plan.outcome, 'deleted');
    assert.deepEqual(plan.changes, { statecode: 1, statuscode: 2, qbsync_qbdeletedon: '2024-03-01T10:00:00-08:00' });
    const again = planDeletedRow(
      'product',
      { statecode: 1, qbsync_qbdeletedon: '2024-03-01T10:00:00-08:00' },
      '2024-03-01T10:00:00-08:00',
    );
    assert.equal(again.outcome, 'unchanged');
    assert.deepEqual(again.changes, {});
  });

  it('a product in Draft is retired, not published, when its item is deleted', () => {
    const plan = planDeletedRow('product', { statecode: 2 }, '2024-03-01T10:00:00Z');
    assert.equal(plan.changes.statecode, 1);
    assert.equal(plan.changes.statuscode, 2);
  });

  it('the deletion cursor moves to the newest TimeDeleted; deletions read again in the overlap are not news', () => {
    const read = [
      deleted('Customer', 'C1', '2024-03-01T10:00:00-08:00'),
      deleted('Vendor', 'V1', '2024-03-01T10:30:00-08:00'),
    ];
    const cursors = cursorAfter(DELETIONS_CURSOR, read, {}, 75 * 60_000);
    assert.equal(cursors[DELETIONS_CURSOR], '2024-03-01T10:30:00-08:00');
    assert.deepEqual(unseen(read, cursors, DELETIONS_CURSOR), []);
    const later = deleted('Customer', 'C2', '2024-03-01T10:45:00-08:00');
    assert.deepEqual(unseen([...read, later], cursors, DELETIONS_CURSOR), [later]);
  });

  it('a row marked deleted in QuickBooks is no longer due in QuickBooks', () => {
    const mark = { qbsync_qbdeletedon: '2024-03-01T10:00:00-08:00' };
    assert.equal(accountChange({ name: 'Acme', customertypecode: 3, qbsync_qblistid: 'C1', ...mark }), 'notOurs');
    assert.equal(productChange({ name: 'Hinge', qbsync_qblistid: 'I1', ...mark }, true), 'notOurs');
    assert.equal(accountChange({ name: 'Acme', customertypecode: 3, qbsync_qblistid: 'C1' }), 'due');
  });

  it('an order whose invoice was deleted shows status Deleted and nothing owed; the deletion is read once', () => {
    assert.deepEqual(deletedInvoiceOnOrder(), { qbsync_invoicestatus: 'Deleted', qbsync_balance: '0.00' });
    const read: TxnDeletedRet[] = [
      { kind: 'TxnDeleted', txnDelType: 'Invoice', txnId: '1A-1', timeDeleted: '2024-03-01T10:00:00-08:00' },
    ];
    const cursors = cursorAfter(INVOICE_DELETIONS_CURSOR, read, {}, 75 * 60_000);
    assert.equal(cursors[INVOICE_DELETIONS_CURSOR], '2024-03-01T10:00:00-08:00');
    assert.deepEqual(unseen(read, cursors, INVOICE_DELETIONS_CURSOR), []);
  });
});
