import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ENTITY_SETS,
  ProductState,
  SalesOrderStatusCode,
  bindTo,
  moneyFromWire,
  moneyToWire,
  qbListKey,
  rowFromWire,
  salesOrderStatusChange,
  type ProductRow,
} from '../../src/dataverse/entities';
import { entityAddress, idFromEntityUrl, queryString } from '../../src/dataverse/odataAddress';

describe('entities: money', () => {
  it('reads Dataverse money numbers as exact decimal strings', () => {
    const cases: Array<[unknown, string | null]> = [
      [5000000.0, '5000000'],
      [19.99, '19.99'],
      [0.1, '0.1'],
      [1234567.8901, '1234567.8901'],
      ['12.50', '12.5'],
      [null, null],
      [undefined, null],
      [-3.5, '-3.5'],
    ];
    for (const [wire, expected] of cases) assert.equal(moneyFromWire(wire), expected, String(wire));
  });

  it('rejects values that are not money', () => {
    for (const bad of [true, {}, [], Number.NaN, Number.POSITIVE_INFINITY, '']) {
      assert.throws(() => moneyFromWire(bad), TypeError, JSON.stringify(bad));
    }
    assert.throws(() => moneyFromWire('12,50'), Error);
  });

  it('writes decimal strings as exact JSON numbers, refusing what a double or Dataverse cannot keep', () => {
    assert.equal(moneyToWire('19.99'), 19.99);
    assert.equal(JSON.stringify({ a: moneyToWire('0.10') }), '{"a":0.1}');
    assert.equal(moneyToWire('-1234567.8901'), -1234567.8901);
    const bad: Array<[string, RegExp]> = [
      ['1.23456', /precision/],
      ['1234567890123456', /precision/],
      ['abc', /DecimalError|Invalid/],
    ];
    for (const [value, err] of bad) assert.throws(() => moneyToWire(value), err, value);
  });

  it('turns decimal columns of a row into strings and leaves others alone', () => {
    const row = rowFromWire<ProductRow>('product', {
      productid: 'x',
      price: 10.5,
      standardcost: null,
      name: 'W',
      statecode: 2,
    });
    assert.deepEqual(row, { productid: 'x', price: '10.5', standardcost: null, name: 'W', statecode: 2 });
  });
});

describe('entities: choices and addresses', () => {
  it('pairs every sales-order status with its state', () => {
    const expected: Array<[number, number]> = [
      [SalesOrderStatusCode.New, 0],
      [SalesOrderStatusCode.Pending, 0],
      [SalesOrderStatusCode.InProgress, 1],
      [SalesOrderStatusCode.NoMoney, 2],
      [SalesOrderStatusCode.Complete, 3],
      [SalesOrderStatusCode.Partial, 3],
      [SalesOrderStatusCode.Invoiced, 4],
    ];
    for (const [status, state] of expected) {
      assert.deepEqual(salesOrderStatusChange(status), { statecode: state, statuscode: status });
    }
    assert.throws(() => salesOrderStatusChange(690970000), RangeError);
  });

  it('keeps product state/status pairs from the reference', () => {
    assert.deepEqual(ProductState.Draft, { statecode: 2, statuscode: 0 });
    assert.deepEqual(ProductState.Active, { statecode: 0, statuscode: 1 });
  });

  it('builds binds and keys', () => {
    const id = '7D5E2B4C-0000-4000-8000-000000000001';
    assert.equal(bindTo('pricelevel', id), `/pricelevels(${id})`);
    assert.throws(() => bindTo('account', 'Parent:Child'), TypeError);
    assert.deepEqual(qbListKey('east', '80000001-1'), { qbsync_companyfile: 'east', qbsync_qblistid: '80000001-1' });
    assert.equal(ENTITY_SETS.salesorderdetail, 'salesorderdetails');
    assert.equal(
      entityAddress('accounts', qbListKey("o'hare", 'A B'), 'c'),
      "accounts(qbsync_companyfile='o''hare',qbsync_qblistid='A%20B')",
    );
    assert.equal(entityAddress('accounts', { accountnumber: 42 }, 'c'), 'accounts(accountnumber=42)');
  });

  it('extracts row ids from OData-EntityId', () => {
    const cases: Array<[string | undefined, string | undefined]> = [
      [
        'https://x/api/data/v9.2/accounts(7D5E2B4C-0000-4000-8000-000000000001)',
        '7d5e2b4c-0000-4000-8000-000000000001',
      ],
      [
        '[Organization URI]/api/data/v9.1/tasks(a59c24f3-fafc-e411-80dd-00155d2a68cb)',
        'a59c24f3-fafc-e411-80dd-00155d2a68cb',
      ],
      ["https://x/api/data/v9.2/accounts(accountnumber='1')", undefined],
      [undefined, undefined],
      ['', undefined],
    ];
    for (const [url, id] of cases) assert.equal(idFromEntityUrl(url), id, String(url));
  });

  it('encodes query options with %20, literal option names and commas', () => {
    assert.equal(
      queryString({ select: ['name', 'accountid'], filter: "name eq 'A&B'", orderby: 'name desc', top: 5 }),
      "$select=name,accountid&$filter=name%20eq%20'A%26B'&$orderby=name%20desc&$top=5",
    );
    assert.equal(queryString({}), '');
  });
});
