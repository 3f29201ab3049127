import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EstimateRet } from '../../src/qbxml/requests';
import {
  estimateNumber,
  estimateOnOpportunity,
  matchEstimate,
  opportunityAccountId,
  opportunityReadiness,
  OpportunityStateCode,
  wonOpportunityToEstimate,
  type EstimateMappingContext,
} from '../../src/mapping/wonOpportunityToEstimate';
import { assertError, value } from './mappingResults';

const ID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const P1 = '11111111-1111-1111-1111-111111111111';
const ctx: EstimateMappingContext = {
  customerListId: '80000001-1',
  itemListIdByProductId: { [P1]: 'ITEM-1' },
  writeInItem: { fullName: 'Write-in' },
  discountItem: { fullName: 'Discount' },
  freightItem: { fullName: 'Freight' },
};
const won = { opportunityid: ID, name: 'Showroom', statecode: OpportunityStateCode.Won };

describe('the won opportunity → estimate decisions', () => {
  it('acts on a won opportunity only, and never twice', () => {
    assert.deepEqual(opportunityReadiness({ statecode: 1 }), { kind: 'won' });
    assert.equal(opportunityReadiness({ statecode: 0 }).kind, 'skip');
    assert.equal(opportunityReadiness({ statecode: 2 }).kind, 'skip');
    assert.deepEqual(opportunityReadiness({ statecode: 1, qbsync_estimatetxnid: 'T-1' }), {
      kind: 'skip',
      note: 'its estimate is already recorded',
      targetId: 'T-1',
    });
  });

  it('takes the Account, else the potential customer', () => {
    assert.equal(opportunityAccountId({ _parentaccountid_value: 'a', _customerid_value: 'b' }), 'a');
    assert.equal(opportunityAccountId({ _customerid_value: 'b' }), 'b');
    assert.equal(opportunityAccountId({}), null);
  });

  it('numbers the estimate from the opportunity id within QuickBooks’ 11 characters', () => {
    assert.equal(estimateNumber(ID), 'OP-3F2504E0');
    assert.equal(estimateNumber(`{${ID.toUpperCase()}}`), 'OP-3F2504E0');
    assert.ok(estimateNumber(ID).length <= 11);
  });

  it('maps products, quantities and prices (amount = rate × quantity to the cent), write-ins, discounts and freight', () => {
    const fields = value(
      wonOpportunityToEstimate(
        { ...won, description: 'Fit-out', freightamount: '15', discountamount: '5' },
        [
          { _productid_value: P1, quantity: '3', priceperunit: '19.999' },
          { isproductoverridden: true, productdescription: 'Delivery crate', quantity: '1', priceperunit: '40' },
        ],
        ctx,
      ),
    );
    assert.deepEqual(fields.customerRef, { listId: '80000001-1' });
    assert.equal(fields.refNumber, 'OP-3F2504E0');
    assert.equal(fields.externalGuid, `{${ID.toUpperCase()}}`);
    assert.equal(fields.memo, 'Showroom — Fit-out');
    assert.deepEqual(fields.lines, [
      { itemRef: { listId: 'ITEM-1' }, quantity: '3', rate: '19.999', amount: '60.00' },
      { itemRef: { fullName: 'Write-in' }, quantity: '1', rate: '40', amount: '40.00', desc: 'Delivery crate' },
      { itemRef: { fullName: 'Discount' }, desc: 'Discount', amount: '-5.00' },
      { itemRef: { fullName: 'Freight' }, desc: 'Freight', amount: '15.00' },
    ]);
  });

  it('fails naming every broken rule: no products, a product without an item, no quantity', () => {
    assertError(wonOpportunityToEstimate(won, [], ctx), 'lines', 'required');
    assertError(
      wonOpportunityToEstimate(
        won,
        [{ _productid_value: '99999999-9999-9999-9999-999999999999', quantity: '1', priceperunit: '1' }],
        ctx,
      ),
      'lines[0]._productid_value',
      'unmapped-product',
    );
    const noQuantity = wonOpportunityToEstimate(won, [{ _productid_value: P1, priceperunit: '1' }], ctx);
    assert.equal(noQuantity.ok, false);
    assert.ok(
      !noQuantity.ok && noQuantity.errors.some((e) => /every opportunity line needs a quantity/.test(e.message)),
    );
  });

  it('finds its own estimate among those carrying the number; another one is a clash, never a reason to add', () => {
    const estimate = (customer: string, guid?: string): EstimateRet => ({
      kind: 'Estimate',
      txnId: `T-${customer}`,
      editSequence: '1',
      refNumber: 'OP-3F2504E0',
      customerRef: { listId: customer },
      ...(guid ? { externalGuid: guid } : {}),
    });
    const ours = estimate('80000001-1', `{${ID.toUpperCase()}}`);
    assert.deepEqual(matchEstimate([estimate('X', `{${ID}}`), ours], '80000001-1', ID), {
      kind: 'ours',
      estimate: ours,
    });
    assert.deepEqual(matchEstimate([], '80000001-1', ID), { kind: 'none' });
    assert.deepEqual(matchEstimate([estimate('80000001-1')], '80000001-1', ID), { kind: 'numberTaken' });
    assert.deepEqual(value(estimateOnOpportunity(ours)), { txnId: 'T-80000001-1', estimateNumber: 'OP-3F2504E0' });
  });
});
