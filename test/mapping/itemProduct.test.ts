import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  itemToProduct,
  type ProductRecord,
  productToItemAdd,
  productToItemMod,
  itemValuesNotCarried,
  type SyncedItem,
} from '../../src/mapping';
import { assertError, value } from './mappingResults';

const ctx = { companyFile: 'east-office' };
const base = { listId: '80000020-1', editSequence: '5', name: 'Hinge', fullName: 'Hardware:Hinge' };

describe('itemToProduct', () => {
  const cases: { title: string; item: SyncedItem; expected: Record<string, unknown> }[] = [
    {
      title: 'service, sales-only price',
      item: { ...base, kind: 'ItemService', salesOrPurchase: { desc: 'Hourly work', price: '95.00' } },
      expected: { producttypecode: 3, description: 'Hourly work', price: '95', standardcost: null },
    },
    {
      title: 'non-inventory bought and sold',
      item: {
        ...base,
        kind: 'ItemNonInventory',
        salesAndPurchase: { salesDesc: 'Brass hinge', salesPrice: '4.5', purchaseCost: '1.2375' },
      },
      // Dataverse keeps a cost to the pricing precision (2) and rounds a finer one: the product is written rounded.
      expected: { producttypecode: 2, description: 'Brass hinge', price: '4.5', standardcost: '1.24' },
    },
    {
      title: 'a price finer than the pricing precision is written as Dataverse stores it',
      item: { ...base, kind: 'ItemInventory', salesPrice: '12.345', quantityOnHand: '3.125' },
      expected: { price: '12.35', quantityonhand: '3.13' },
    },
    {
      title: 'negative stock is not carried (quantity on hand accepts 0 and more): left empty, the rest synced',
      item: { ...base, kind: 'ItemInventory', salesPrice: '10', salesDesc: 'Steel hinge', quantityOnHand: '-5' },
      expected: { price: '10', description: 'Steel hinge', quantityonhand: null },
    },
    {
      title: 'a negative price is not carried either',
      item: { ...base, kind: 'ItemService', salesOrPurchase: { desc: 'Refund', price: '-2.5' } },
      expected: { price: null, description: 'Refund' },
    },
    {
      title: 'inventory with quantity on hand',
      item: {
        ...base,
        kind: 'ItemInventory',
        salesDesc: 'Steel hinge',
        salesPrice: '19.99',
        purchaseCost: '7',
        quantityOnHand: '120',
      },
      expected: {
        producttypecode: 1,
        description: 'Steel hinge',
        price: '19.99',
        standardcost: '7',
        quantityonhand: '120',
      },
    },
    {
      title: 'no price at all',
      item: { ...base, kind: 'ItemService' },
      expected: { price: null, description: null },
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const product = value(itemToProduct(c.item, ctx));
      assert.equal(product.name, 'Hinge');
      assert.equal(product.productnumber, 'Hardware:Hinge');
      assert.equal(product.qbsync_qblistid, '80000020-1');
      assert.equal(product.qbsync_companyfile, 'east-office');
      for (const [key, expected] of Object.entries(c.expected)) {
        assert.equal((product as unknown as Record<string, unknown>)[key], expected, key);
      }
    });
  }
  it('names each value a product cannot carry, and nothing when every value fits', () => {
    const notes = itemValuesNotCarried({ ...base, kind: 'ItemInventory', salesPrice: '12.345', quantityOnHand: '-5' });
    assert.equal(notes.length, 1);
    assert.match(
      notes[0] ?? '',
      /quantityOnHand is not carried: -5 does not fit Dataverse's quantityonhand, which accepts 0 to 1000000000/,
    );
    assert.deepEqual(itemValuesNotCarried({ ...base, kind: 'ItemInventory', quantityOnHand: '0' }), []);
  });
  it('product number falls back to the name for top-level items', () => {
    assert.equal(
      value(itemToProduct({ ...base, fullName: undefined, kind: 'ItemService' }, ctx)).productnumber,
      'Hinge',
    );
  });

  const failures: { title: string; item: SyncedItem; field: string; rule: string }[] = [
    { title: 'missing name', item: { ...base, name: '', kind: 'ItemService' }, field: 'name', rule: 'required' },
    {
      title: 'percentage price',
      item: { ...base, kind: 'ItemService', salesOrPurchase: { pricePercent: '10' } },
      field: 'salesOrPurchase.pricePercent',
      rule: 'unsupported',
    },
    {
      title: 'malformed price',
      item: { ...base, kind: 'ItemInventory', salesPrice: 'ten' },
      field: 'salesPrice',
      rule: 'decimal',
    },
    {
      title: 'full name longer than a product number',
      item: { ...base, kind: 'ItemService', fullName: `${'A'.repeat(80)}:${'B'.repeat(25)}` },
      field: 'fullName',
      rule: 'max-length',
    },
  ];
  for (const f of failures) {
    it(`refuses: ${f.title}`, () => assertError(itemToProduct(f.item, ctx), f.field, f.rule));
  }
});

const accounts = {
  income: { fullName: 'Sales' },
  cogs: { fullName: 'Cost of Goods Sold' },
  asset: { fullName: 'Inventory Asset' },
};
const product: ProductRecord = { name: 'Widget', productnumber: 'W-1', description: 'Blue widget', price: '12.50' };

describe('active status of items', () => {
  it('an inactive item is a retired product, an active one an active product', () => {
    const item = (isActive: boolean): SyncedItem => ({ kind: 'ItemService', ...base, isActive });
    assert.equal(value(itemToProduct(item(false), ctx)).statecode, 1);
    assert.equal(value(itemToProduct(item(true), ctx)).statecode, 0);
  });
});

describe('productToItemAdd', () => {
  const cases: { title: string; p: ProductRecord; kind: SyncedItem['kind']; expected: unknown }[] = [
    {
      title: 'service without cost → sales-only',
      p: product,
      kind: 'ItemService',
      expected: {
        kind: 'ItemService',
        fields: {
          name: 'Widget',
          salesOrPurchase: { desc: 'Blue widget', price: '12.5', accountRef: { fullName: 'Sales' } },
        },
      },
    },
    {
      title: 'non-inventory with cost → bought and sold',
      p: { ...product, standardcost: '4' },
      kind: 'ItemNonInventory',
      expected: {
        kind: 'ItemNonInventory',
        fields: {
          name: 'Widget',
          salesAndPurchase: {
            salesDesc: 'Blue widget',
            salesPrice: '12.5',
            incomeAccountRef: { fullName: 'Sales' },
            purchaseCost: '4',
            expenseAccountRef: { fullName: 'Cost of Goods Sold' },
          },
        },
      },
    },
    {
      title: 'inventory with its three accounts',
      p: { ...product, standardcost: '4' },
      kind: 'ItemInventory',
      expected: {
        kind: 'ItemInventory',
        fields: {
          name: 'Widget',
          salesDesc: 'Blue widget',
          salesPrice: '12.5',
          incomeAccountRef: { fullName: 'Sales' },
          purchaseCost: '4',
          cogsAccountRef: { fullName: 'Cost of Goods Sold' },
          assetAccountRef: { fullName: 'Inventory Asset' },
        },
      },
    },
  ];
  for (const c of cases) {
    it(c.title, () =>
      assert.deepEqual(value(productToItemAdd(c.p, { defaultAccounts: accounts, itemKind: c.kind })), c.expected),
    );
  }

  const failures: {
    title: string;
    p: ProductRecord;
    kind: SyncedItem['kind'];
    acc?: typeof accounts;
    field: string;
    rule: string;
  }[] = [
    {
      title: 'name of 32 characters',
      p: { ...product, name: 'W'.repeat(32) },
      kind: 'ItemService',
      field: 'name',
      rule: 'max-length',
    },
    {
      title: 'name with colon',
      p: { ...product, name: 'Parts:Widget' },
      kind: 'ItemService',
      field: 'name',
      rule: 'forbidden-character',
    },
    { title: 'missing name', p: { ...product, name: null }, kind: 'ItemService', field: 'name', rule: 'required' },
    {
      title: 'inventory without asset account',
      p: product,
      kind: 'ItemInventory',
      acc: { ...accounts, asset: { fullName: '' } },
      field: 'defaultAccounts.asset',
      rule: 'required',
    },
  ];
  for (const f of failures) {
    it(`refuses: ${f.title}`, () =>
      assertError(productToItemAdd(f.p, { defaultAccounts: f.acc ?? accounts, itemKind: f.kind }), f.field, f.rule));
  }
  it('accepts a 31-character name', () => {
    assert.equal(
      value(
        productToItemAdd({ ...product, name: 'W'.repeat(31) }, { defaultAccounts: accounts, itemKind: 'ItemService' }),
      ).fields.name.length,
      31,
    );
  });
});

describe('productToItemMod', () => {
  const service: SyncedItem = {
    kind: 'ItemService',
    listId: 'I1',
    editSequence: '7',
    name: 'Widget',
    salesOrPurchase: { desc: 'Blue widget', price: '12.50000', accountRef: { fullName: 'Sales' } },
  };
  const inventory: SyncedItem = {
    kind: 'ItemInventory',
    listId: 'I2',
    editSequence: '8',
    name: 'Widget',
    salesDesc: 'Blue widget',
    salesPrice: '12.50',
    purchaseCost: '4.00',
  };
  const cases: { title: string; p: ProductRecord; current: SyncedItem; expected: unknown }[] = [
    { title: 'equal (12.5 = 12.50000) → null', p: product, current: service, expected: null },
    { title: 'inventory equal → null', p: { ...product, standardcost: '4' }, current: inventory, expected: null },
    {
      title: 'price changed only',
      p: { ...product, price: '13' },
      current: service,
      expected: { kind: 'ItemService', fields: { listId: 'I1', editSequence: '7', salesOrPurchase: { price: '13' } } },
    },
    {
      title: 'renamed and description cleared',
      p: { ...product, name: 'Gadget', description: null },
      current: service,
      expected: {
        kind: 'ItemService',
        fields: { listId: 'I1', editSequence: '7', name: 'Gadget', salesOrPurchase: { desc: '' } },
      },
    },
    {
      title: 'inventory cost changed',
      p: { ...product, standardcost: '4.25' },
      current: inventory,
      expected: { kind: 'ItemInventory', fields: { listId: 'I2', editSequence: '8', purchaseCost: '4.25' } },
    },
    {
      title: 'retired in Dynamics',
      p: { ...product, statecode: 1 },
      current: service,
      expected: { kind: 'ItemService', fields: { listId: 'I1', editSequence: '7', isActive: false } },
    },
    {
      title: 'active again in Dynamics',
      p: { ...product, statecode: 0 },
      current: { ...inventory, isActive: false, purchaseCost: undefined },
      expected: { kind: 'ItemInventory', fields: { listId: 'I2', editSequence: '8', isActive: true } },
    },
    {
      // QuickBooks keeps 12.345, the product 12.35 (the pricing precision): they agree, so a description edited in
      // Dynamics does not round QuickBooks' price.
      title: 'a price QuickBooks keeps finer than the product is not sent back rounded',
      p: { ...product, price: '12.35', description: 'Green widget' },
      current: {
        ...service,
        salesOrPurchase: { desc: 'Blue widget', price: '12.345', accountRef: { fullName: 'Sales' } },
      },
      expected: {
        kind: 'ItemService',
        fields: { listId: 'I1', editSequence: '7', salesOrPurchase: { desc: 'Green widget' } },
      },
    },
    {
      title: 'a Draft or Under Revision product is still an active item',
      p: { ...product, statecode: 3 },
      current: { ...service, isActive: true },
      expected: null,
    },
  ];
  for (const c of cases) {
    it(c.title, () => assert.deepEqual(value(productToItemMod(c.p, c.current)), c.expected));
  }
  it('refuses a cost on a sales-only item', () => {
    assertError(productToItemMod({ ...product, standardcost: '3' }, service), 'standardcost', 'unsupported');
  });
});
