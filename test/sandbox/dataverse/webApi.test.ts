import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  demoOrderId,
  DEMO_PRICE_LIST_ID,
  DEMO_UNIT_GROUP_ID,
  DEMO_UNIT_ID,
  demoProductId,
} from '../../../src/sandbox/dataverse/demoOrganisation';
import { type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { provisionKey, startForTest, type WebApiClient } from './sandboxClient';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ETAG = /^W\/"\d+"$/;

describe('Dataverse sandbox Web API', () => {
  let sandbox: DataverseSandbox;
  let client: WebApiClient;

  before(async () => {
    ({ sandbox, client } = await startForTest('webapi', { seed: true }));
    await provisionKey(client, 'account', 'qbsync_QbListId', 'qbsync_account_qblistid');
  });
  after(async () => sandbox.close());

  it('creates with 204 + OData-EntityId, and 201 + representation shaped like the samples', async () => {
    const plain = await client.call('POST', 'accounts', { name: 'Plain Co' });
    assert.equal(plain.status, 204);
    assert.match(
      plain.headers['odata-entityid'] ?? '',
      new RegExp(`^${sandbox.webApiUrl.replace(/[.$]/g, '\\$&')}accounts\\([0-9a-f-]{36}\\)$`),
    );
    const rep = await client.call(
      'POST',
      'accounts?$select=name,accountid',
      { name: 'Rep Co', creditonhold: false },
      { Prefer: 'return=representation' },
    );
    assert.equal(rep.status, 201);
    const body = rep.json();
    assert.equal(body['@odata.context'], `${sandbox.webApiUrl}$metadata#accounts(name,accountid)/$entity`);
    assert.match(String(body['@odata.etag']), ETAG);
    assert.match(String(body.accountid), GUID);
    assert.deepEqual(Object.keys(body), ['@odata.context', '@odata.etag', 'name', 'accountid']);
    const full = (await client.call('GET', `accounts(${String(body.accountid)})`)).json();
    assert.match(String(full.createdon), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(full.statecode, 0);
    assert.equal(full.statuscode, 1);
    assert.ok('_transactioncurrencyid_value' in full);
  });

  it('upserts by alternate key: create (201) then update (200) leave one row; etag changes on every write', async () => {
    const path = "accounts(qbsync_qblistid='80000001-1700000000')";
    const created = await client.call('PATCH', path, { name: 'Upsert Co' }, { Prefer: 'return=representation' });
    assert.equal(created.status, 201);
    const updated = await client.call(
      'PATCH',
      path,
      { name: 'Upsert Co Renamed' },
      { Prefer: 'return=representation' },
    );
    assert.equal(updated.status, 200);
    assert.equal(updated.json().accountid, created.json().accountid);
    assert.notEqual(updated.json()['@odata.etag'], created.json()['@odata.etag']);
    const list = (
      await client.call('GET', "accounts?$filter=qbsync_qblistid eq '80000001-1700000000'&$select=name,qbsync_qblistid")
    ).json();
    assert.deepEqual(
      (list.value as Array<Record<string, unknown>>).map((r) => [r.name, r.qbsync_qblistid]),
      [['Upsert Co Renamed', '80000001-1700000000']],
    );
    const plain = await client.call('PATCH', path, { telephone1: '555' });
    assert.equal(plain.status, 204);
    assert.equal(plain.headers['odata-entityid'], `${sandbox.webApiUrl}accounts(${String(created.json().accountid)})`);
  });

  it('applies conditional headers like Dataverse', async () => {
    const created = (
      await client.call(
        'POST',
        'accounts',
        { name: 'Cond Co', qbsync_qblistid: 'COND-1' },
        { Prefer: 'return=representation' },
      )
    ).json();
    const id = String(created.accountid);
    const etag = String(created['@odata.etag']);
    await client.call('PATCH', `accounts(${id})`, { name: 'Cond Co 2' });
    const cases: Array<{
      name: string;
      method: string;
      path: string;
      headers: Record<string, string>;
      status: number;
      message: string;
    }> = [
      {
        name: 'stale If-Match',
        method: 'PATCH',
        path: `accounts(${id})`,
        headers: { 'If-Match': etag },
        status: 412,
        message: "The version of the existing record doesn't match the RowVersion property provided.",
      },
      {
        name: 'stale If-Match on delete',
        method: 'DELETE',
        path: `accounts(${id})`,
        headers: { 'If-Match': etag },
        status: 412,
        message: "The version of the existing record doesn't match the RowVersion property provided.",
      },
      {
        name: 'If-None-Match * on existing',
        method: 'PATCH',
        path: "accounts(qbsync_qblistid='COND-1')",
        headers: { 'If-None-Match': '*' },
        status: 412,
        message: 'A record with matching key values already exists.',
      },
      {
        name: 'If-Match * on missing id',
        method: 'PATCH',
        path: 'accounts(00000000-0000-0000-0000-000000000001)',
        headers: { 'If-Match': '*' },
        status: 404,
        message: 'account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist',
      },
      {
        name: 'If-Match * on missing key',
        method: 'PATCH',
        path: "accounts(qbsync_qblistid='NOPE')",
        headers: { 'If-Match': '*' },
        status: 404,
        message: 'account With Id = qbsync_qblistid:NOPE Does Not Exist',
      },
    ];
    for (const c of cases) {
      const response = await client.call(
        c.method,
        c.path,
        c.method === 'DELETE' ? undefined : { name: 'x' },
        c.headers,
      );
      assert.equal(response.status, c.status, c.name);
      assert.deepEqual(response.json(), { error: { code: '', message: c.message } }, c.name);
    }
    const current = (await client.call('GET', `accounts(${id})?$select=name`)).json();
    const ok = await client.call(
      'PATCH',
      `accounts(${id})`,
      { name: 'Cond Co 3' },
      { 'If-Match': String(current['@odata.etag']) },
    );
    assert.equal(ok.status, 204);
    const notModified = await client.call('GET', `accounts(${id})?$select=name`, undefined, {
      'If-None-Match': String((await client.call('GET', `accounts(${id})`)).json()['@odata.etag']),
    });
    assert.equal(notModified.status, 304);
  });

  it('rejects a POST that collides with an alternate key (412 DuplicateRecordEntityKey)', async () => {
    await client.call('POST', 'accounts', { name: 'Dup A', qbsync_qblistid: 'DUP-1' });
    const second = await client.call('POST', 'accounts', { name: 'Dup B', qbsync_qblistid: 'dup-1' });
    assert.equal(second.status, 412);
    assert.equal((second.json().error as { code: string }).code, '0x80060892');
  });

  const badWrites: Array<{
    name: string;
    method: string;
    path: string;
    body: Record<string, unknown>;
    status: number;
    code: string;
    message: RegExp;
  }> = [
    {
      name: 'name too long',
      method: 'POST',
      path: 'accounts',
      body: { name: 'x'.repeat(161) },
      status: 400,
      code: '0x80044331',
      message: /maximum allowed length of '160'/,
    },
    {
      name: 'missing required name',
      method: 'POST',
      path: 'accounts',
      body: { telephone1: '1' },
      status: 400,
      code: '0x80040200',
      message: /'name'/,
    },
    {
      name: 'unknown property',
      method: 'POST',
      path: 'accounts',
      body: { name: 'a', nosuch: 1 },
      status: 400,
      code: '0x80060888',
      message: /The property 'nosuch' does not exist/,
    },
    {
      name: 'wrong type',
      method: 'POST',
      path: 'accounts',
      body: { name: 'a', creditlimit: 'lots' },
      status: 400,
      code: '0x80060888',
      message: /Edm.Decimal/,
    },
    {
      name: 'choice out of range',
      method: 'POST',
      path: 'accounts',
      body: { name: 'a', customertypecode: 99 },
      status: 400,
      code: '0x8004431a',
      message: /outside the valid range/,
    },
    {
      name: 'bind to missing row',
      method: 'POST',
      path: 'accounts',
      body: { name: 'a', 'primarycontactid@odata.bind': '/contacts(00000000-0000-0000-0000-0000000000aa)' },
      status: 404,
      code: '0x80040217',
      message: /contact With Id/,
    },
    {
      name: 'bind to wrong table',
      method: 'POST',
      path: 'salesorders',
      body: { name: 'o', 'customerid_account@odata.bind': `/contacts(${'0'.repeat(8)}-0000-0000-0000-000000000000)` },
      status: 404,
      code: '0x80040217',
      message: /contact With Id/,
    },
    {
      name: 'unknown navigation',
      method: 'POST',
      path: 'accounts',
      body: { name: 'a', 'nosuch@odata.bind': '/accounts(00000000-0000-0000-0000-000000000001)' },
      status: 400,
      code: '0x80060888',
      message: /undeclared property 'nosuch'/,
    },
    {
      name: 'undefined alternate key',
      method: 'PATCH',
      path: "accounts(telephone1='1')",
      body: { name: 'a' },
      status: 400,
      code: '0x80060890',
      message: /not a defined key/,
    },
    {
      name: 'unknown entity set',
      method: 'POST',
      path: 'widgets',
      body: {},
      status: 404,
      code: '0x80060888',
      message: /widgets/,
    },
  ];
  for (const c of badWrites) {
    it(`rejects ${c.name}`, async () => {
      const response = await client.call(c.method, c.path, c.body);
      assert.equal(response.status, c.status);
      const error = response.json().error as { code: string; message: string };
      assert.equal(error.code, c.code);
      assert.match(error.message, c.message);
    });
  }

  it('returns lookups as _x_value with annotations only on request, and binds by alternate key', async () => {
    const contact = (
      await client.call('POST', 'contacts', { firstname: 'Ann', lastname: 'Lee' }, { Prefer: 'return=representation' })
    ).json();
    const account = (
      await client.call(
        'PATCH',
        "accounts(qbsync_qblistid='LOOK-1')",
        { name: 'Lookup Co', 'primarycontactid@odata.bind': `/contacts(${String(contact.contactid)})` },
        { Prefer: 'return=representation' },
      )
    ).json();
    assert.equal(account._primarycontactid_value, contact.contactid);
    assert.ok(!('_primarycontactid_value@OData.Community.Display.V1.FormattedValue' in account));
    const annotated = (
      await client.call('GET', `accounts(${String(account.accountid)})?$select=_primarycontactid_value`, undefined, {
        Prefer: 'odata.include-annotations="*"',
      })
    ).json();
    assert.equal(annotated['_primarycontactid_value@OData.Community.Display.V1.FormattedValue'], 'Ann Lee');
    assert.equal(annotated['_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname'], 'contact');
    const order = (
      await client.call(
        'POST',
        'salesorders',
        { name: 'Key bound', 'customerid_account@odata.bind': "/accounts(qbsync_qblistid='LOOK-1')" },
        { Prefer: 'return=representation' },
      )
    ).json();
    assert.equal(order._customerid_value, account.accountid);
    const expanded = (
      await client.call(
        'GET',
        `salesorders(${String(order.salesorderid)})?$select=name&$expand=customerid_account($select=name)`,
      )
    ).json();
    assert.equal((expanded.customerid_account as { name: string }).name, 'Lookup Co');
  });

  it('computes line amounts and order totals, and makes non-active orders read-only', async () => {
    const orderId = demoOrderId('Spring fleet refresh');
    const before = (
      await client.call(
        'GET',
        `salesorders(${orderId})?$select=totalamount&$expand=order_details($select=extendedamount)`,
      )
    ).json();
    const lines = before.order_details as Array<{ extendedamount: number }>;
    assert.equal(before.totalamount, Math.round(lines.reduce((s, l) => s + l.extendedamount, 0) * 100) / 100);
    const added = await client.call(
      'POST',
      'salesorderdetails',
      {
        'salesorderid@odata.bind': `/salesorders(${orderId})`,
        isproductoverridden: true,
        productdescription: 'Gift wrap',
        quantity: 3,
        priceperunit: 2.1,
      },
      { Prefer: 'return=representation' },
    );
    assert.equal(added.status, 201);
    assert.equal(added.json().baseamount, 6.3);
    const after = (await client.call('GET', `salesorders(${orderId})?$select=totalamount`)).json();
    assert.equal(Math.round(((after.totalamount as number) - (before.totalamount as number)) * 100) / 100, 6.3);
    const fulfil = await client.call('PATCH', `salesorders(${orderId})`, { statecode: 3, statuscode: 100001 });
    assert.equal(fulfil.status, 204);
    const edit = await client.call('PATCH', `salesorders(${orderId})`, { name: 'changed' });
    assert.equal(edit.status, 400);
    assert.match((edit.json().error as { message: string }).message, /read-only/);
    const line = await client.call('POST', 'salesorderdetails', {
      'salesorderid@odata.bind': `/salesorders(${orderId})`,
      'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      quantity: 1,
    });
    assert.equal(line.status, 400);
  });

  it('creates products in Draft and refuses them on order lines until published', async () => {
    const product = (
      await client.call(
        'POST',
        'products',
        {
          name: 'New gadget',
          productnumber: 'NG-1',
          'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
          'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
        },
        { Prefer: 'return=representation' },
      )
    ).json();
    assert.deepEqual([product.statecode, product.statuscode], [2, 0]);
    const order = (
      await client.call(
        'POST',
        'salesorders',
        { name: 'Draft test', 'customerid_account@odata.bind': "/accounts(qbsync_qblistid='LOOK-1')" },
        { Prefer: 'return=representation' },
      )
    ).json();
    const line = {
      'salesorderid@odata.bind': `/salesorders(${String(order.salesorderid)})`,
      'productid@odata.bind': `/products(${String(product.productid)})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      quantity: 2,
      priceperunit: 5,
    };
    assert.equal((await client.call('POST', 'salesorderdetails', line)).status, 400);
    assert.equal(
      (await client.call('PATCH', `products(${String(product.productid)})`, { statecode: 0, statuscode: 1 })).status,
      204,
    );
    assert.equal((await client.call('POST', 'salesorderdetails', line)).status, 204);
    const org = (await client.call('GET', 'organizations?$select=createproductswithoutparentinactivestate')).json();
    assert.deepEqual(
      (org.value as Array<Record<string, unknown>>).map((o) => o.createproductswithoutparentinactivestate),
      [false],
    );
  });

  it('matches navigation properties case-sensitively, as Dataverse does', async () => {
    const account = (
      await client.call('POST', 'accounts', { name: 'Case Co' }, { Prefer: 'return=representation' })
    ).json();
    const wrongCase = await client.call('POST', 'contacts', {
      lastname: 'Case',
      'ParentCustomerId_account@odata.bind': `/accounts(${String(account.accountid)})`,
    });
    assert.equal(wrongCase.status, 400);
    assert.match(
      String((wrongCase.json().error as { message: string }).message),
      /undeclared property 'ParentCustomerId_account'/,
    );
    const rightCase = await client.call('POST', 'contacts', {
      lastname: 'Case',
      'parentcustomerid_account@odata.bind': `/accounts(${String(account.accountid)})`,
    });
    assert.equal(rightCase.status, 204);
    const expandWrong = await client.call(
      'GET',
      `salesorders(${demoOrderId('Spring fleet refresh')})?$expand=Order_Details`,
    );
    assert.equal(expandWrong.status, 400);
    assert.equal((expandWrong.json().error as { code: string }).code, '0x80060888');
    const expandRight = await client.call(
      'GET',
      `salesorders(${demoOrderId('Spring fleet refresh')})?$expand=order_details`,
    );
    assert.equal(expandRight.status, 200);
  });

  it('refuses a product without its unit group and default unit, or with a unit of another group', async () => {
    const noGroup = await client.call('POST', 'products', {
      name: 'Loose',
      productnumber: 'L-1',
      'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
    });
    assert.equal(noGroup.status, 400);
    assert.deepEqual(noGroup.json().error, {
      code: '0x80040200',
      message: "Attribute 'defaultuomscheduleid' cannot be NULL",
    });
    const noUnit = await client.call('POST', 'products', {
      name: 'Loose',
      productnumber: 'L-2',
      'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
    });
    assert.equal(noUnit.status, 400);
    assert.match(String((noUnit.json().error as { message: string }).message), /'defaultuomid' cannot be NULL/);
    const otherGroup = (
      await client.call(
        'POST',
        'uomschedules',
        { name: 'Weight', baseuomname: 'kg' },
        { Prefer: 'return=representation' },
      )
    ).json();
    const mismatched = await client.call('POST', 'products', {
      name: 'Loose',
      productnumber: 'L-3',
      'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      'defaultuomscheduleid@odata.bind': `/uomschedules(${String(otherGroup.uomscheduleid)})`,
    });
    assert.equal(mismatched.status, 400);
    assert.match(
      String((mismatched.json().error as { message: string }).message),
      /does not belong to the product's unit group/,
    );
  });

  it('refuses a default price list on a new product, and on a product without a price-list item in that list', async () => {
    const product = {
      name: 'Priced later',
      productnumber: 'PL-1',
      'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
    };
    const metadata = (
      await client.call(
        'GET',
        "EntityDefinitions(LogicalName='product')/Attributes(LogicalName='pricelevelid')?$select=IsValidForCreate,IsValidForUpdate",
      )
    ).json();
    assert.deepEqual([metadata.IsValidForCreate, metadata.IsValidForUpdate], [false, true]);
    const onCreate = await client.call('POST', 'products', {
      ...product,
      'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
    });
    assert.equal(onCreate.status, 400);
    const createError = onCreate.json().error as { code: string; message: string };
    assert.equal(createError.code, '0x80040203');
    assert.match(
      createError.message,
      /'pricelevelid' \(Default Price List\) is not valid for create on entity 'product'/,
    );
    const upserted = await client.call('PATCH', 'products(5b7e0c1a-4f7d-4c55-9a3e-2d1f6a9b8c01)', {
      ...product,
      productnumber: 'PL-2',
      'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
    });
    assert.equal(upserted.status, 400, 'an upsert that creates is a create');
    const none = (await client.call('GET', "products?$filter=startswith(productnumber,'PL-')&$select=productid")).json()
      .value as unknown[];
    assert.deepEqual(none, [], 'a refused create leaves no product');

    const created = await client.call('POST', 'products', product);
    assert.equal(created.status, 204);
    const productId = /\(([0-9a-f-]{36})\)$/.exec(created.headers['odata-entityid'] ?? '')?.[1] ?? '';
    const setDefault = { 'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})` };
    const unpriced = await client.call('PATCH', `products(${productId})`, setDefault);
    assert.equal(unpriced.status, 400);
    const updateError = unpriced.json().error as { code: string; message: string };
    assert.equal(updateError.code, '0x80040203');
    assert.equal(
      updateError.message,
      `The price list (pricelevel Id = ${DEMO_PRICE_LIST_ID}) has no price list item for this product (product Id = ${productId}): it cannot be the product's default price list.`,
    );
    const item = await client.call('POST', 'productpricelevels', {
      amount: 4.5,
      'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
      'productid@odata.bind': `/products(${productId})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
    });
    assert.equal(item.status, 204);
    assert.equal((await client.call('PATCH', `products(${productId})`, setDefault)).status, 204);
    const stored = (await client.call('GET', `products(${productId})?$select=_pricelevelid_value`)).json();
    assert.equal(stored._pricelevelid_value, DEMO_PRICE_LIST_ID);
    assert.equal(
      (await client.call('PATCH', `products(${productId})`, { 'pricelevelid@odata.bind': null })).status,
      204,
      'clearing the default is allowed',
    );
  });

  it("rounds money and decimals to their column's precision and refuses a value outside its range, as its metadata says", async () => {
    const columns = (
      await client.call(
        'GET',
        "EntityDefinitions(LogicalName='product')/Attributes?$select=LogicalName,MinValue,MaxValue,Precision,PrecisionSource&$filter=IsCustomAttribute eq false",
      )
    ).json().value as Array<Record<string, unknown>>;
    const limits = Object.fromEntries(
      columns
        .filter((c) => ['price', 'quantityonhand'].includes(String(c.LogicalName)))
        .map((c) => [c.LogicalName, [c.MinValue, c.MaxValue, c.Precision, c.PrecisionSource]]),
    );
    assert.deepEqual(limits, { price: [0, 1000000000000, 2, 1], quantityonhand: [0, 1000000000, 2, undefined] });

    const product = {
      name: 'Finely priced',
      productnumber: 'FP-1',
      'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
    };
    const created = await client.call('POST', 'products', { ...product, price: 12.345, standardcost: 0.003 });
    assert.equal(created.status, 204);
    const productId = /\(([0-9a-f-]{36})\)$/.exec(created.headers['odata-entityid'] ?? '')?.[1] ?? '';
    const stored = (await client.call('GET', `products(${productId})?$select=price,standardcost`)).json();
    assert.deepEqual([stored.price, stored.standardcost], [12.35, 0], 'rounded to the pricing precision (2)');

    const negative = await client.call('PATCH', `products(${productId})`, { quantityonhand: -5, price: 9 });
    assert.equal(negative.status, 400);
    const error = negative.json().error as { code: string; message: string };
    assert.equal(error.code, '0x8004431a');
    assert.equal(
      error.message,
      "A validation error occurred. The value -5 of 'quantityonhand' on record of type 'product' is outside the valid range. Accepted Values: 0 to 1000000000",
    );
    const after = (await client.call('GET', `products(${productId})?$select=price,quantityonhand`)).json();
    assert.deepEqual([after.price, after.quantityonhand], [12.35, null], 'a refused update changes nothing');
  });

  it('accepts If-Match with a row version only on tables with optimistic concurrency', async () => {
    const definitions = (
      await client.call(
        'GET',
        "EntityDefinitions?$select=LogicalName,IsOptimisticConcurrencyEnabled&$filter=EntitySetName eq 'productpricelevels'",
      )
    ).json().value as Array<Record<string, unknown>>;
    assert.deepEqual(
      definitions.map((d) => [d.LogicalName, d.IsOptimisticConcurrencyEnabled]),
      [['productpricelevel', false]],
    );
    const items = (
      await client.call('GET', `productpricelevels?$filter=_pricelevelid_value eq ${DEMO_PRICE_LIST_ID}&$top=1`)
    ).json().value as Array<Record<string, unknown>>;
    const item = items[0];
    assert.ok(item !== undefined);
    const versioned = await client.call(
      'PATCH',
      `productpricelevels(${String(item.productpricelevelid)})`,
      { amount: 7 },
      { 'If-Match': String(item['@odata.etag']) },
    );
    assert.equal(versioned.status, 400);
    assert.equal((versioned.json().error as { code: string }).code, '0x8006088d');
    const guarded = await client.call(
      'PATCH',
      `productpricelevels(${String(item.productpricelevelid)})`,
      { amount: 7 },
      { 'If-Match': '*' },
    );
    assert.equal(guarded.status, 204);
  });

  it('pages 2,500 rows exactly once with nextLink/$skiptoken, even with inserts between pages', async () => {
    const accounts = sandbox.records.schema.table('account');
    for (let i = 0; i < 2500; i += 1)
      sandbox.records.create(
        accounts,
        { name: `Paged ${String(i).padStart(4, '0')}`, accountnumber: 'PAGE' },
        { events: [] },
      );
    const seen = new Map<string, number>();
    let url: string | undefined = "accounts?$select=name&$filter=accountnumber eq 'PAGE'&$orderby=name desc";
    let pages = 0;
    while (url !== undefined) {
      const response = await client.call('GET', url, undefined, { Prefer: 'odata.maxpagesize=1000' });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers['preference-applied'], 'odata.maxpagesize=1000');
      const body = response.json();
      assert.equal(body['@odata.context'], `${sandbox.webApiUrl}$metadata#accounts(name)`);
      for (const row of body.value as Array<{ accountid: string }>)
        seen.set(row.accountid, (seen.get(row.accountid) ?? 0) + 1);
      url = body['@odata.nextLink'] as string | undefined;
      if (url !== undefined) {
        assert.match(url, /\$skiptoken=%3Ccookie%20pagenumber%3D%22\d%22%20pagingcookie%3D%22/);
        // A row sorting before the cursor must not appear; it must not shift the rest either.
        sandbox.records.create(accounts, { name: `Paged 9999 late ${pages}`, accountnumber: 'PAGE' }, { events: [] });
      }
      pages += 1;
    }
    assert.equal(pages, 3);
    assert.equal(seen.size, 2500);
    assert.ok([...seen.values()].every((n) => n === 1));
    const counted = (await client.call('GET', "accounts?$filter=accountnumber eq 'PAGE'&$count=true&$top=1")).json();
    assert.equal(counted['@odata.count'], 2502);
  });

  it('evaluates $filter like Dataverse', async () => {
    const t = (name: string, extra: Record<string, unknown>) =>
      client.call('POST', 'accounts', { name, accountnumber: 'FLT', ...extra });
    await t('Alpha Filter', { creditlimit: 100, customertypecode: 3, creditonhold: false });
    await t('beta filter', { creditlimit: 250.5, customertypecode: 11, creditonhold: true, telephone1: '555-0001' });
    await t("Gamma O'Brien", { creditlimit: 1000, customertypecode: 3 });
    const contact = (
      await client.call('POST', 'contacts', { lastname: 'Filterer' }, { Prefer: 'return=representation' })
    ).json();
    await t('Delta', { 'primarycontactid@odata.bind': `/contacts(${String(contact.contactid)})` });
    const cases: Array<[string, string[]]> = [
      ["name eq 'ALPHA FILTER'", ['Alpha Filter']],
      ["name ne 'Delta'", ['Alpha Filter', 'beta filter', "Gamma O'Brien"]],
      ['creditlimit gt 100', ['beta filter', "Gamma O'Brien"]],
      ['creditlimit ge 100 and creditlimit le 250.5', ['Alpha Filter', 'beta filter']],
      ['creditlimit lt 200 or customertypecode eq 11', ['Alpha Filter', 'beta filter']],
      ['not (customertypecode eq 3)', ['beta filter']],
      ["contains(name,'filter')", ['Alpha Filter', 'beta filter']],
      ["startswith(name,'gam')", ["Gamma O'Brien"]],
      ["name eq 'Gamma O''Brien'", ["Gamma O'Brien"]],
      ['telephone1 eq null', ['Alpha Filter', 'Delta', "Gamma O'Brien"]],
      ['telephone1 ne null', ['beta filter']],
      ['creditonhold eq true', ['beta filter']],
      [`_primarycontactid_value eq ${String(contact.contactid)}`, ['Delta']],
      [
        'createdon ge 2000-01-01T00:00:00Z and createdon lt 2999-01-01',
        ['Alpha Filter', 'Delta', "Gamma O'Brien", 'beta filter'],
      ],
    ];
    for (const [filter, expected] of cases) {
      const response = await client.call(
        'GET',
        `accounts?$select=name&$orderby=name&$filter=accountnumber eq 'FLT' and (${encodeURIComponent(filter)})`,
      );
      assert.equal(response.status, 200, `${filter}: ${response.text}`);
      const names = (response.json().value as Array<{ name: string }>).map((r) => r.name).sort();
      assert.deepEqual(names, [...expected].sort(), filter);
    }
    const bad: Array<[string, RegExp]> = [
      ["nosuch eq 'x'", /Could not find a property named 'nosuch'/],
      ["creditlimit eq 'abc'", /incompatible types/],
      ["name eq 'unterminated", /unterminated/],
      ['name eq', /unexpected end/],
    ];
    for (const [filter, message] of bad) {
      const response = await client.call('GET', `accounts?$filter=${encodeURIComponent(filter)}`);
      assert.equal(response.status, 400, filter);
      assert.match((response.json().error as { message: string }).message, message);
    }
  });
});
