import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alignChoices, type ChoiceAlignmentInput, choiceLabelKey, type ChoiceOption } from '../../src/mapping';

const TERMS: ChoiceOption[] = [
  { value: 1, label: 'Net 30' },
  { value: 2, label: '2% 10, Net 30' },
  { value: 3, label: 'Net 3' },
  { value: 4, label: 'Due on receipt' },
];

describe('choiceLabelKey', () => {
  const cases: { a: string; b: string; same: boolean }[] = [
    { a: 'Net 30', b: 'NET 30', same: true },
    { a: 'Net 30', b: '  Net 30 ', same: true },
    { a: 'Net 30', b: 'net30', same: true },
    { a: 'Net 30', b: 'Net-30', same: true },
    { a: '2% 10 Net 30', b: '2% 10, Net 30', same: true },
    { a: '2% 10 Net 30', b: '2/10 Net 30', same: true },
    { a: 'Whole sale', b: 'Wholesale', same: true },
    { a: 'Net 30', b: 'Net 3', same: false },
    { a: 'Net 30', b: 'Net 3 0', same: false },
    { a: '2% 10 Net 30', b: '210 Net 30', same: false },
    { a: 'Net 30', b: 'Net 60', same: false },
    { a: '--', b: '--', same: true },
    { a: '--', b: '**', same: false },
    { a: '--', b: '', same: false },
  ];
  for (const c of cases) {
    it(`"${c.a}" ${c.same ? '=' : '≠'} "${c.b}"`, () =>
      assert.equal(choiceLabelKey(c.a) === choiceLabelKey(c.b), c.same));
  }
});

describe('alignChoices', () => {
  const cases: {
    title: string;
    input: ChoiceAlignmentInput;
    map: Record<string, number>;
    createInDataverse?: string[];
    createInQuickBooks?: string[];
    tooLongForQuickBooks?: string[];
    subLevelSeparatorInLabel?: string[];
    configuredWithoutOption?: string[];
  }[] = [
    {
      title: 'label matches ignore case, spacing and punctuation',
      input: { quickbooks: ['net30', '2% 10 Net 30', 'DUE ON RECEIPT'], dataverse: TERMS },
      map: { net30: 1, '2% 10 Net 30': 2, 'DUE ON RECEIPT': 4 },
    },
    {
      title: '"Net 30" does not match "Net 3"',
      input: { quickbooks: ['Net 3', 'Net 30'], dataverse: [{ value: 3, label: 'Net 3' }] },
      map: { 'Net 3': 3 },
      createInDataverse: ['Net 30'],
    },
    {
      title: 'configured pairs win over label matches',
      input: { quickbooks: ['Net 30', 'COD'], dataverse: TERMS, configured: { 'net 30': 2, COD: 4 } },
      map: { 'Net 30': 2, COD: 4 },
    },
    {
      title: 'a configured value the choice lacks is stale: the label decides',
      input: { quickbooks: ['Net 30', 'Net 90'], dataverse: TERMS, configured: { 'Net 30': 99, 'Net 90': 98 } },
      map: { 'Net 30': 1 },
      createInDataverse: ['Net 90'],
      configuredWithoutOption: ['Net 30', 'Net 90'],
    },
    {
      title: 'configured pairs for names QuickBooks no longer has are left out',
      input: { quickbooks: ['Net 30'], dataverse: TERMS, configured: { 'Net 60': 3 } },
      map: { 'Net 30': 1 },
    },
    {
      title: 'two QuickBooks names matching one option both map to it',
      input: { quickbooks: ['Net 30', 'Net-30'], dataverse: TERMS },
      map: { 'Net 30': 1, 'Net-30': 1 },
    },
    {
      title: 'names without an option are proposed in input order, one per spelling family',
      input: { quickbooks: ['Net 90', 'Consignment', 'net90', 'Net 30'], dataverse: TERMS },
      map: { 'Net 30': 1 },
      createInDataverse: ['Net 90', 'Consignment'],
    },
    {
      title: 'twin options: the exact spelling wins, otherwise the first option',
      input: {
        quickbooks: ['Net-30', 'NET30'],
        dataverse: [
          { value: 1, label: 'Net 30' },
          { value: 7, label: 'Net-30' },
        ],
      },
      map: { 'Net-30': 7, NET30: 1 },
    },
    {
      title: 'QuickBooks duplicates differing in case or spacing count once; blanks are ignored',
      input: { quickbooks: ['Net 30', ' net 30 ', '  '], dataverse: TERMS },
      map: { 'Net 30': 1 },
    },
    {
      title: 'unmatched options are not proposed for QuickBooks by default (terms)',
      input: { quickbooks: ['Net 30'], dataverse: TERMS },
      map: { 'Net 30': 1 },
    },
    {
      title: 'unmatched options are proposed for QuickBooks when allowed, in option order',
      input: { quickbooks: ['Net 30'], dataverse: TERMS, createInQuickBooks: true },
      map: { 'Net 30': 1 },
      createInQuickBooks: ['2% 10, Net 30', 'Net 3', 'Due on receipt'],
    },
    {
      title: 'an option covered by a configured name or a twin spelling is not proposed',
      input: {
        quickbooks: ['Retail', 'Trade'],
        dataverse: [
          { value: 10, label: 'Retail' },
          { value: 11, label: 'retail ' },
          { value: 12, label: 'Wholesale' },
          { value: 13, label: 'Distributor' },
          { value: 14, label: 'Distributor.' },
        ],
        configured: { Trade: 12 },
        createInQuickBooks: true,
      },
      map: { Retail: 10, Trade: 12 },
      createInQuickBooks: ['Distributor'],
    },
    {
      title: 'labels QuickBooks cannot hold are reported instead of proposed',
      input: {
        quickbooks: [],
        dataverse: [
          { value: 1, label: 'A'.repeat(31) },
          { value: 2, label: 'B'.repeat(32) },
          { value: 3, label: 'Retail:Online' },
          { value: 4, label: '   ' },
        ],
        createInQuickBooks: true,
      },
      map: {},
      createInQuickBooks: ['A'.repeat(31)],
      tooLongForQuickBooks: ['B'.repeat(32)],
      subLevelSeparatorInLabel: ['Retail:Online'],
    },
    {
      title: 'the 31-character limit counts characters, not UTF-16 units',
      input: { quickbooks: [], dataverse: [{ value: 1, label: '😀'.repeat(31) }], createInQuickBooks: true },
      map: {},
      createInQuickBooks: ['😀'.repeat(31)],
    },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const result = alignChoices(c.input);
      assert.deepEqual(Object.entries(result.map), Object.entries(c.map));
      assert.deepEqual(result.createInDataverse, c.createInDataverse ?? []);
      assert.deepEqual(result.createInQuickBooks, c.createInQuickBooks ?? []);
      assert.deepEqual(result.tooLongForQuickBooks, c.tooLongForQuickBooks ?? []);
      assert.deepEqual(result.subLevelSeparatorInLabel, c.subLevelSeparatorInLabel ?? []);
      assert.deepEqual(result.configuredWithoutOption, c.configuredWithoutOption ?? []);
    });
  }

  it('converges: after the proposed entries exist, a second call proposes nothing', () => {
    const first = alignChoices({
      quickbooks: ['Net 30', 'Net 90'],
      dataverse: TERMS,
      createInQuickBooks: true,
    });
    const dataverse = [...TERMS, ...first.createInDataverse.map((label, i) => ({ value: 100 + i, label }))];
    const second = alignChoices({
      quickbooks: ['Net 30', 'Net 90', ...first.createInQuickBooks],
      dataverse,
      createInQuickBooks: true,
    });
    assert.deepEqual([second.createInDataverse, second.createInQuickBooks], [[], []]);
    assert.equal(second.map['Net 90'], 100);
    assert.equal(second.map['Due on receipt'], 4);
  });

  it('keeps a name like __proto__ as an ordinary entry', () => {
    const result = alignChoices({ quickbooks: ['__proto__'], dataverse: [{ value: 5, label: '__proto__' }] });
    assert.ok(Object.prototype.hasOwnProperty.call(result.map, '__proto__'));
    assert.equal(result.map['__proto__'], 5);
    assert.equal(Object.getPrototypeOf(result.map), Object.prototype);
  });
});
