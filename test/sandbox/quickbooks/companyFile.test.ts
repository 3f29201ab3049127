import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { CompanyFileSimulator, QuickBooksParseError } from '../../../src/sandbox/quickbooks/companyFile';
import { seedGeneratedCustomers } from '../../../src/sandbox/quickbooks/benchmarkData';
import { seedDemoCompany } from '../../../src/sandbox/quickbooks/demoCompany';

const samples = join(__dirname, '..', '..', 'fixtures', 'samples', 'qbxml');
const reader = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  isArray: (n) => n.endsWith('Ret') || (n.endsWith('Rs') && n !== 'QBXMLMsgsRs'),
});

interface Clock {
  now: () => Date;
  advance(seconds: number): void;
}
function clock(start = '2024-03-01T17:00:00Z'): Clock {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (s) => (t += s * 1000) };
}
function sim(c: Clock = clock(), dataFile?: string): CompanyFileSimulator {
  return new CompanyFileSimulator(dataFile ? { name: 'test', now: c.now, dataFile } : { name: 'test', now: c.now });
}
function msg(body: string, onError = 'continueOnError', version = '13.0'): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="${version}"?>\n<QBXML><QBXMLMsgsRq onError="${onError}">${body}</QBXMLMsgsRq></QBXML>`;
}
type Rs = Record<string, unknown> & { '@statusCode': string; '@statusMessage': string };
function responses(xml: string): Rs[] {
  const doc = reader.parse(xml) as { QBXML: { QBXMLMsgsRs: Record<string, Rs[]> } };
  const out: Rs[] = [];
  // keep document order: re-scan the tags in order of appearance
  const order = [...xml.matchAll(/<(\w+Rs) /g)].map((m) => m[1] ?? '');
  const seen: Record<string, number> = {};
  for (const name of order) {
    const idx = seen[name] ?? 0;
    seen[name] = idx + 1;
    const rs = doc.QBXML.QBXMLMsgsRs[name]?.[idx];
    if (rs) out.push({ ...rs, '@name': name } as Rs);
  }
  return out;
}
function one(s: CompanyFileSimulator, body: string, onError?: string): Rs {
  const rs = responses(s.processRequest(msg(body, onError)))[0];
  assert.ok(rs);
  return rs;
}
function rets(rs: Rs, name: string): Record<string, unknown>[] {
  return (rs[name] as Record<string, unknown>[] | undefined) ?? [];
}
const customerAdd = (name: string, extra = '') =>
  `<CustomerAddRq><CustomerAdd><Name>${name}</Name>${extra}</CustomerAdd></CustomerAddRq>`;
const vendorAdd = (name: string) => `<VendorAddRq><VendorAdd><Name>${name}</Name></VendorAdd></VendorAddRq>`;

describe('list adds, mods and status codes', () => {
  it('adds a customer with ID, EditSequence and offset timestamps like QuickBooks', () => {
    const s = sim();
    const rs = one(s, customerAdd('Acme'));
    assert.equal(rs['@statusCode'], '0');
    assert.equal(rs['@statusMessage'], 'Status OK');
    const ret = rets(rs, 'CustomerRet')[0] ?? {};
    assert.match(String(ret['ListID']), /^[0-9A-F]{8}-1709312400$/);
    assert.equal(ret['EditSequence'], '1709312400');
    assert.equal(ret['TimeCreated'], '2024-03-01T09:00:00-08:00');
    assert.equal(ret['Sublevel'], '0');
    assert.equal(ret['Balance'], '0.00');
  });

  it('changes EditSequence on every Mod, even within one second, and rejects a stale one with 3200', () => {
    const s = sim();
    const ret = rets(one(s, customerAdd('Acme')), 'CustomerRet')[0] ?? {};
    const mod = (es: string, phone: string) =>
      one(
        s,
        `<CustomerModRq><CustomerMod><ListID>${String(ret['ListID'])}</ListID><EditSequence>${es}</EditSequence><Phone>${phone}</Phone></CustomerMod></CustomerModRq>`,
      );
    const first = mod(String(ret['EditSequence']), '555-1');
    const es1 = String(rets(first, 'CustomerRet')[0]?.['EditSequence']);
    assert.notEqual(es1, ret['EditSequence']);
    const second = mod(es1, '555-2');
    const es2 = String(rets(second, 'CustomerRet')[0]?.['EditSequence']);
    assert.notEqual(es2, es1);
    const stale = mod(String(ret['EditSequence']), '555-3');
    assert.equal(stale['@statusCode'], '3200');
    assert.equal(
      stale['@statusMessage'],
      `The provided edit sequence "${String(ret['EditSequence'])}" is out-of-date.`,
    );
    assert.equal(rets(stale, 'CustomerRet').length, 0);
  });

  const table: { name: string; setup: string; request: string; code: string; message?: RegExp }[] = [
    {
      name: 'customer name used by a vendor (case-insensitive)',
      setup: vendorAdd('Acme Supply'),
      request: customerAdd('ACME supply'),
      code: '3100',
      message: /The name "ACME supply" of the list element is already in use\./,
    },
    {
      name: 'vendor name used by a customer',
      setup: customerAdd('Blue Co'),
      request: vendorAdd('Blue Co'),
      code: '3100',
    },
    {
      name: 'unknown ParentRef',
      setup: '',
      request: customerAdd('Job', '<ParentRef><FullName>Nobody</FullName></ParentRef>'),
      code: '3140',
      message: /invalid reference to QuickBooks Customer "Nobody"/,
    },
    {
      name: 'unknown TermsRef',
      setup: '',
      request: customerAdd('T', '<TermsRef><FullName>Net 99</FullName></TermsRef>'),
      code: '3140',
    },
    {
      name: 'Mod of an unknown ListID',
      setup: '',
      request:
        '<CustomerModRq><CustomerMod><ListID>80000999-1</ListID><EditSequence>1</EditSequence></CustomerMod></CustomerModRq>',
      code: '3120',
      message: /Object "80000999-1" specified in the request cannot be found/,
    },
    {
      name: 'Mod of a malformed ListID',
      setup: '',
      request:
        '<CustomerModRq><CustomerMod><ListID>not-an-id</ListID><EditSequence>1</EditSequence></CustomerMod></CustomerModRq>',
      code: '3000',
    },
    { name: 'name too long', setup: '', request: customerAdd('x'.repeat(42)), code: '3070', message: /too long/ },
    { name: 'bad boolean', setup: '', request: customerAdd('B', '<IsActive>yes</IsActive>'), code: '3010' },
    {
      name: 'query without matches',
      setup: '',
      request:
        '<VendorQueryRq><NameFilter><MatchCriterion>StartsWith</MatchCriterion><Name>zzz</Name></NameFilter></VendorQueryRq>',
      code: '1',
    },
    {
      name: 'query by a FullName that does not exist',
      setup: customerAdd('Here'),
      request: '<CustomerQueryRq><FullName>Here</FullName><FullName>Gone</FullName></CustomerQueryRq>',
      code: '500',
    },
    {
      name: 'unknown iterator',
      setup: '',
      request:
        '<CustomerQueryRq iterator="Continue" iteratorID="{00000000-0000-0000-0000-000000000000}"><MaxReturned>5</MaxReturned></CustomerQueryRq>',
      code: '3391',
    },
  ];
  for (const c of table) {
    it(`answers ${c.code} for ${c.name}`, () => {
      const s = sim();
      if (c.setup) one(s, c.setup);
      const rs = one(s, c.request);
      assert.equal(rs['@statusCode'], c.code);
      if (c.message) assert.match(rs['@statusMessage'], c.message);
      if (Number(c.code) >= 1000)
        assert.deepEqual(
          Object.keys(rs).filter((k) => !k.startsWith('@')),
          [],
        );
    });
  }

  it('DataExtAdd answers 3180 when the value exists; DataExtMod changes it; OwnerID returns it in queries', () => {
    const s = sim();
    one(s, customerAdd('Baker, Chris'));
    one(s, customerAdd('Abercrombie, Kristy'));
    assert.equal(
      one(
        s,
        `<DataExtDefAddRq><DataExtDefAdd><OwnerID>0</OwnerID><DataExtName>Spouse's Name</DataExtName><DataExtType>STR255TYPE</DataExtType><AssignToObject>Customer</AssignToObject></DataExtDefAdd></DataExtDefAddRq>`,
      )['@statusCode'],
      '0',
    );
    const add = responses(s.processRequest(readFileSync(join(samples, 'dataext-add-rq.xml'), 'utf8')))[0];
    assert.equal(add?.['@statusCode'], '0');
    const again = responses(s.processRequest(readFileSync(join(samples, 'dataext-add-rq.xml'), 'utf8')))[0];
    assert.equal(again?.['@statusCode'], '3180');
    // the mod sample targets a customer without a value yet
    const modMissing = responses(s.processRequest(readFileSync(join(samples, 'dataext-mod-rq.xml'), 'utf8')))[0];
    assert.equal(modMissing?.['@statusCode'], '3120');
    const q = one(s, '<CustomerQueryRq><FullName>Baker, Chris</FullName><OwnerID>0</OwnerID></CustomerQueryRq>');
    const ext = (rets(q, 'CustomerRet')[0]?.['DataExtRet'] as Record<string, string>[] | undefined)?.[0] ?? {};
    assert.equal(ext['DataExtValue'], 'Robin');
  });
});

describe('samples from Intuit', () => {
  it('adds the customer and its job from customer-add-rq.xml (qbXML 2.0, booleans as 1) and finds both by FullName', () => {
    const s = sim();
    const added = responses(s.processRequest(readFileSync(join(samples, 'customer-add-rq.xml'), 'utf8')));
    assert.deepEqual(
      added.map((r) => r['@statusCode']),
      ['0', '0'],
    );
    const job = rets(added[1] ?? ({} as Rs), 'CustomerRet')[0] ?? {};
    assert.equal(job['FullName'], 'Joe Customer:Equipment Installation');
    assert.equal(job['Sublevel'], '1');
    const query = responses(s.processRequest(readFileSync(join(samples, 'customer-query-rq-by-fullname.xml'), 'utf8')));
    assert.deepEqual(
      query.map((r) => [r['@name'], r['@statusCode']]),
      [
        ['AccountQueryRs', '0'],
        ['CustomerQueryRs', '0'],
      ],
    );
    assert.equal(rets(query[1] ?? ({} as Rs), 'CustomerRet').length, 2);
  });

  it('adds the vendor of vendor-add-rq.xml once its VendorType exists, and 3140 before', () => {
    const s = sim();
    const text = readFileSync(join(samples, 'vendor-add-rq.xml'), 'utf8');
    assert.equal(responses(s.processRequest(text))[0]?.['@statusCode'], '3140');
    one(s, '<VendorTypeAddRq><VendorTypeAdd><Name>Materials</Name></VendorTypeAdd></VendorTypeAddRq>');
    const rs = responses(s.processRequest(text))[0] ?? ({} as Rs);
    assert.equal(rs['@statusCode'], '0');
    const ret = rets(rs, 'VendorRet')[0] ?? {};
    assert.equal(ret['IsActive'], 'true');
    assert.equal(ret['CreditLimit'], '10000.00');
  });
});

describe('parse errors fail the whole message', () => {
  const cases: { name: string; xml: string }[] = [
    {
      name: 'element out of order',
      xml: msg('<CustomerAddRq><CustomerAdd><CompanyName>X</CompanyName><Name>A</Name></CustomerAdd></CustomerAddRq>'),
    },
    {
      name: 'Mod order (EditSequence before ListID)',
      xml: msg(
        '<CustomerModRq><CustomerMod><EditSequence>1</EditSequence><ListID>1</ListID></CustomerMod></CustomerModRq>',
      ),
    },
    {
      name: 'unknown element',
      xml: msg('<CustomerAddRq><CustomerAdd><Name>A</Name><Colour>red</Colour></CustomerAdd></CustomerAddRq>'),
    },
    {
      name: 'missing required Name',
      xml: msg('<CustomerAddRq><CustomerAdd><IsActive>true</IsActive></CustomerAdd></CustomerAddRq>'),
    },
    {
      name: 'NonInventory Add takes ParentRef before ClassRef',
      xml: msg(
        '<ItemNonInventoryAddRq><ItemNonInventoryAdd><Name>A</Name><ClassRef><FullName>C</FullName></ClassRef><ParentRef><FullName>P</FullName></ParentRef><SalesOrPurchase><Price>1</Price></SalesOrPurchase></ItemNonInventoryAdd></ItemNonInventoryAddRq>',
      ),
    },
    {
      name: 'bad enum value',
      xml: msg('<CustomerAddRq><CustomerAdd><Name>A</Name><JobStatus>Maybe</JobStatus></CustomerAdd></CustomerAddRq>'),
    },
    { name: 'qbXML version newer than 16.0', xml: msg(customerAdd('A'), 'continueOnError', '17.0') },
    {
      name: 'missing onError',
      xml:
        '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq>' +
        customerAdd('A') +
        '</QBXMLMsgsRq></QBXML>',
    },
    {
      name: 'DOCTYPE',
      xml: '<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY x "y">]><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"></QBXMLMsgsRq></QBXML>',
    },
    { name: 'malformed XML', xml: msg('<CustomerAddRq><CustomerAdd><Name>A</CustomerAdd></CustomerAddRq>') },
    { name: 'iterator on a request without iterators', xml: msg('<ClassQueryRq iterator="Start"></ClassQueryRq>') },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} with 0x80040400 and changes nothing`, () => {
      const s = sim();
      const before = s.count('Customer');
      assert.throws(
        () => s.processRequest(c.xml.replace('</QBXMLMsgsRq>', customerAdd('Should Not Exist') + '</QBXMLMsgsRq>')),
        (err: unknown) =>
          err instanceof QuickBooksParseError &&
          err.hresult === '0x80040400' &&
          err.message === 'QuickBooks found an error when parsing the provided XML text stream.',
      );
      assert.equal(s.count('Customer'), before);
    });
  }
});

describe('onError', () => {
  const batch = customerAdd('One') + customerAdd('one') + customerAdd('Two');
  const table: { onError: string; codes: string[]; customers: number }[] = [
    { onError: 'stopOnError', codes: ['0', '3100'], customers: 1 },
    { onError: 'continueOnError', codes: ['0', '3100', '0'], customers: 2 },
    { onError: 'rollbackOnError', codes: ['0', '3100'], customers: 0 },
  ];
  for (const c of table) {
    it(`${c.onError} processes ${c.codes.length} requests and keeps ${c.customers} customers`, () => {
      const s = sim();
      const rs = responses(s.processRequest(msg(batch, c.onError)));
      assert.deepEqual(
        rs.map((r) => r['@statusCode']),
        c.codes,
      );
      assert.equal(s.count('Customer'), c.customers);
    });
  }
  it('stopOnError also stops on a warning (500)', () => {
    const s = sim();
    const rs = responses(
      s.processRequest(
        msg('<CustomerQueryRq><FullName>Nope</FullName></CustomerQueryRq>' + customerAdd('After'), 'stopOnError'),
      ),
    );
    assert.deepEqual(
      rs.map((r) => r['@statusCode']),
      ['500'],
    );
    assert.equal(s.count('Customer'), 0);
  });
});

describe('queries', () => {
  it('pages with an iterator over 3+ pages, then answers 3391 when the finished iterator is reused', () => {
    const c = clock();
    const s = sim(c);
    for (let i = 0; i < 7; i++) one(s, customerAdd(`Cust ${i}`));
    const start = one(
      s,
      '<CustomerQueryRq requestID="q" iterator="Start"><MaxReturned>3</MaxReturned></CustomerQueryRq>',
    );
    const id = String(start['@iteratorID']);
    assert.match(id, /^\{[0-9a-f-]{36}\}$/);
    assert.equal(start['@iteratorRemainingCount'], '4');
    const names = rets(start, 'CustomerRet').map((r) => r['Name']);
    const cont = () =>
      one(s, `<CustomerQueryRq iterator="Continue" iteratorID="${id}"><MaxReturned>3</MaxReturned></CustomerQueryRq>`);
    const p2 = cont();
    assert.equal(p2['@iteratorRemainingCount'], '1');
    const p3 = cont();
    assert.equal(p3['@iteratorRemainingCount'], '0');
    names.push(...rets(p2, 'CustomerRet').map((r) => r['Name']), ...rets(p3, 'CustomerRet').map((r) => r['Name']));
    assert.deepEqual(
      names,
      [0, 1, 2, 3, 4, 5, 6].map((i) => `Cust ${i}`),
    );
    const reuse = cont();
    assert.equal(reuse['@statusCode'], '3391');
    assert.equal(reuse['@statusMessage'], `The iteratorID "${id}" is not valid.`);
  });

  it('filters by FromModifiedDate, reading offset-less dates as company local time', () => {
    const c = clock('2024-03-01T17:00:00Z'); // 09:00 at -08:00
    const s = sim(c);
    one(s, customerAdd('Early'));
    c.advance(3600);
    one(s, customerAdd('Late')); // 10:00 local
    const cases: [string, string[]][] = [
      ['2024-03-01T09:30:00', ['Late']],
      ['2024-03-01T09:00:00', ['Early', 'Late']],
      ['2024-03-01T18:30:00Z', []],
      ['2024-03-01T12:30:00-05:00', ['Late']],
    ];
    for (const [from, expected] of cases) {
      const rs = one(s, `<CustomerQueryRq><FromModifiedDate>${from}</FromModifiedDate></CustomerQueryRq>`);
      assert.deepEqual(
        rets(rs, 'CustomerRet').map((r) => r['Name']),
        expected,
        from,
      );
    }
    assert.equal(
      one(s, '<CustomerQueryRq><FromModifiedDate>2024-13-01</FromModifiedDate></CustomerQueryRq>')['@statusCode'],
      '3020',
    );
  });

  it("stamps in the company file's zone, with the stale standard offset when so configured", () => {
    const summer = clock('2026-07-01T18:37:00Z'); // 11:37 PDT
    const name = (s: CompanyFileSimulator) =>
      rets(one(s, '<CustomerQueryRq><FullName>Summer</FullName></CustomerQueryRq>'), 'CustomerRet')[0];
    const right = new CompanyFileSimulator({ name: 'right', now: summer.now, timeZone: 'America/Los_Angeles' });
    one(right, customerAdd('Summer'));
    assert.equal(name(right)?.['TimeModified'], '2026-07-01T11:37:00-07:00');
    const stale = new CompanyFileSimulator({ name: 'stale', now: summer.now, staleOffset: true });
    one(stale, customerAdd('Summer'));
    assert.equal(name(stale)?.['TimeModified'], '2026-07-01T11:37:00-08:00', 'the wall time is right, the offset not');
    const east = new CompanyFileSimulator({ name: 'east', now: summer.now, timeZone: 'America/New_York' });
    one(east, customerAdd('Summer'));
    assert.equal(name(east)?.['TimeModified'], '2026-07-01T14:37:00-04:00');
  });

  it('compares filter dates with stamps as local times, so the repeated autumn hour sorts by wall time', () => {
    const c = clock('2026-11-01T08:50:00Z'); // 01:50 PDT
    const s = sim(c);
    one(s, customerAdd('First Pass'));
    c.advance(20 * 60); // 01:10 PST, twenty minutes later
    one(s, customerAdd('Second Pass'));
    const from = (value: string) =>
      rets(one(s, `<CustomerQueryRq><FromModifiedDate>${value}</FromModifiedDate></CustomerQueryRq>`), 'CustomerRet')
        .map((r) => r['Name'])
        .sort();
    assert.deepEqual(from('2026-11-01T01:30:00'), ['First Pass'], 'the later edit has the lower wall time');
    assert.deepEqual(from('2026-11-01T01:00:00'), ['First Pass', 'Second Pass']);
    assert.deepEqual(
      from('2026-11-01T09:05:00Z'),
      ['First Pass', 'Second Pass'],
      'an instant is compared by its wall time (01:05), so the earlier first pass comes back too',
    );
  });

  it('ItemQuery mixes Ret kinds and MaxReturned without iterator just caps', () => {
    const s = sim();
    seedDemoCompany(s, { office: 'west' });
    const all = one(s, '<ItemQueryRq></ItemQueryRq>');
    for (const kind of [
      'ItemInventoryRet',
      'ItemNonInventoryRet',
      'ItemServiceRet',
      'ItemDiscountRet',
      'ItemOtherChargeRet',
    ]) {
      assert.ok(rets(all, kind).length > 0, kind);
    }
    const capped = one(s, '<CustomerQueryRq><MaxReturned>2</MaxReturned></CustomerQueryRq>');
    assert.equal(rets(capped, 'CustomerRet').length, 2);
    assert.equal(capped['@iteratorID'], undefined);
  });
});

describe('invoices', () => {
  const setup = () => {
    const s = sim();
    one(s, customerAdd('Buyer'));
    one(
      s,
      '<ItemServiceAddRq><ItemServiceAdd><Name>Labor</Name><SalesOrPurchase><Desc>Labor</Desc><Price>33.33</Price><AccountRef><FullName>Service Income</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd></ItemServiceAddRq>',
    );
    return s;
  };
  const line = (item: string, extra = '') =>
    `<InvoiceLineAdd><ItemRef><FullName>${item}</FullName></ItemRef>${extra}</InvoiceLineAdd>`;
  const invoice = (customer: string, lines: string) =>
    `<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>${customer}</FullName></CustomerRef>${lines}</InvoiceAdd></InvoiceAddRq>`;

  const totals: { name: string; lines: string; subtotal: string }[] = [
    {
      name: 'quantity × item price, rounded half-up',
      lines: line('Labor', '<Quantity>0.15</Quantity>'),
      subtotal: '5.00',
    },
    {
      name: 'explicit rates',
      lines:
        line('Labor', '<Quantity>3</Quantity><Rate>0.1</Rate>') +
        line('Labor', '<Quantity>3</Quantity><Rate>0.2</Rate>'),
      subtotal: '0.90',
    },
    {
      name: 'explicit amount wins',
      lines: line('Labor', '<Quantity>2</Quantity><Amount>10.01</Amount>'),
      subtotal: '10.01',
    },
  ];
  for (const c of totals) {
    it(`computes Subtotal to the cent: ${c.name}`, () => {
      const s = setup();
      const ret = rets(one(s, invoice('Buyer', c.lines)), 'InvoiceRet')[0] ?? {};
      assert.equal(ret['Subtotal'], c.subtotal);
      assert.equal(ret['BalanceRemaining'], c.subtotal);
      assert.equal(ret['IsPaid'], 'false');
      assert.equal(ret['RefNumber'], '1');
    });
  }

  it('answers 3140 for an unknown item or customer', () => {
    const s = setup();
    const badItem = one(s, invoice('Buyer', line('Nothing')));
    assert.equal(badItem['@statusCode'], '3140');
    assert.match(badItem['@statusMessage'], /Item "Nothing"/);
    assert.equal(one(s, invoice('Nobody', line('Labor')))['@statusCode'], '3140');
    assert.equal(s.count('Invoice'), 0);
  });

  it('InvoiceMod replaces lines (unnamed lines are deleted) and payInvoice marks it paid', () => {
    const s = setup();
    const ret =
      rets(
        one(s, invoice('Buyer', line('Labor', '<Quantity>1</Quantity>') + line('Labor', '<Quantity>2</Quantity>'))),
        'InvoiceRet',
      )[0] ?? {};
    const lines = ret['InvoiceLineRet'] as Record<string, string>[];
    const firstLine = lines[0]?.['TxnLineID'] ?? '';
    const mod = one(
      s,
      `<InvoiceModRq><InvoiceMod><TxnID>${String(ret['TxnID'])}</TxnID><EditSequence>${String(ret['EditSequence'])}</EditSequence><Memo>m</Memo><InvoiceLineMod><TxnLineID>${firstLine}</TxnLineID><Quantity>4</Quantity></InvoiceLineMod><InvoiceLineMod><TxnLineID>-1</TxnLineID><ItemRef><FullName>Labor</FullName></ItemRef><Amount>1.00</Amount></InvoiceLineMod></InvoiceMod></InvoiceModRq>`,
    );
    const modded = rets(mod, 'InvoiceRet')[0] ?? {};
    assert.equal(modded['Subtotal'], '134.32');
    assert.equal((modded['InvoiceLineRet'] as unknown[]).length, 2);
    s.payInvoice(String(ret['TxnID']), '134.32');
    const q = one(s, `<InvoiceQueryRq><TxnID>${String(ret['TxnID'])}</TxnID></InvoiceQueryRq>`);
    const paid = rets(q, 'InvoiceRet')[0] ?? {};
    assert.equal(paid['BalanceRemaining'], '0.00');
    assert.equal(paid['IsPaid'], 'true');
    assert.notEqual(paid['EditSequence'], modded['EditSequence']);
    assert.equal(paid['InvoiceLineRet'], undefined, 'lines only with IncludeLineItems');
    assert.throws(() => s.payInvoice(String(ret['TxnID']), '1.00'));
  });
});

describe('persistence and seeds', () => {
  it('round-trips a company file through a temp JSON file, counters included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qbsim-'));
    try {
      const file = join(dir, 'company.json');
      const c = clock();
      const a = sim(c, file);
      one(a, customerAdd('Persisted'));
      const b = sim(c, file);
      const q = one(b, '<CustomerQueryRq><FullName>Persisted</FullName></CustomerQueryRq>');
      assert.equal(rets(q, 'CustomerRet').length, 1);
      const next = rets(one(b, customerAdd('Next')), 'CustomerRet')[0] ?? {};
      const first = rets(q, 'CustomerRet')[0] ?? {};
      assert.notEqual(next['ListID'], first['ListID']);
      assert.equal(one(b, customerAdd('persisted'))['@statusCode'], '3100');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('seeds deterministically; both offices share "Northwind Traders"; jobs exist; seeding twice is a no-op', () => {
    const make = (office: 'east' | 'west') => {
      const s = sim(clock());
      seedDemoCompany(s, { office });
      return s;
    };
    assert.equal(make('east').store.snapshot(), make('east').store.snapshot());
    const east = make('east');
    const west = make('west');
    for (const s of [east, west]) {
      assert.equal(
        rets(one(s, '<CustomerQueryRq><FullName>Northwind Traders</FullName></CustomerQueryRq>'), 'CustomerRet').length,
        1,
      );
      const jobs = rets(one(s, '<CustomerQueryRq></CustomerQueryRq>'), 'CustomerRet').filter((r) =>
        String(r['FullName']).includes(':'),
      );
      assert.ok(jobs.length >= 2);
      const count = s.count('Customer');
      seedDemoCompany(s, { office: 'east' });
      assert.equal(s.count('Customer'), count);
    }
    const g1 = sim(clock());
    const g2 = sim(clock());
    seedGeneratedCustomers(g1, 500, 42);
    seedGeneratedCustomers(g2, 500, 42);
    assert.equal(g1.count('Customer'), 500);
    assert.equal(g1.store.snapshot(), g2.store.snapshot());
  });
});

describe('simulated company file: text XML cannot carry', () => {
  it('writes a control character stored in a note as a reference (default) or raw, as QuickBooks does', () => {
    for (const [mode, written] of [
      ['reference', 'one&#11;two'],
      ['raw', 'one\u000btwo'],
    ] as const) {
      const file = new CompanyFileSimulator({ name: `control-${mode}`, controlCharacters: mode });
      const answer = file.processRequest(
        msg('<CustomerAddRq><CustomerAdd><Name>Pasted</Name><Notes>one&#11;two</Notes></CustomerAdd></CustomerAddRq>'),
      );
      assert.ok(answer.includes(`<Notes>${written}</Notes>`), mode);
    }
  });
});
