import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AccountRecord,
  accountToCustomerAdd,
  accountToCustomerMod,
  changedColumns,
  customerContact,
  customerToAccount,
  vendorContact,
  vendorToAccount,
} from '../../src/mapping';
import { type CustomerRet, type VendorRet } from '../../src/qbxml/requests';
import { assertError, choices, value } from './mappingResults';

const ctx = { companyFile: 'east-office', choices };

function customer(extra: Partial<CustomerRet> = {}): CustomerRet {
  return { kind: 'Customer', listId: '80000001-1446676743', editSequence: '1446676743', name: 'Acme', ...extra };
}

describe('customerToAccount', () => {
  it('maps identity, relationship type, contact details, terms, type and credit limit', () => {
    const account = value(
      customerToAccount(
        customer({
          fullName: 'Acme',
          accountNumber: '007',
          phone: '555-0100',
          fax: '555-0101',
          email: 'ap@acme.test',
          termsRef: { fullName: 'net 30' },
          customerTypeRef: { fullName: 'Wholesale' },
          creditLimit: '5000',
          billAddress: {
            addr1: 'Acme Corp',
            addr2: '1 Main St',
            city: 'Springfield',
            state: 'IL',
            postalCode: '62701',
          },
          shipAddress: { addr1: 'Dock 4', country: 'US' },
        }),
        ctx,
      ),
    );
    assert.deepEqual(account, {
      qbsync_companyfile: 'east-office',
      qbsync_qblistid: '80000001-1446676743',
      name: 'Acme',
      accountnumber: '007',
      customertypecode: 3,
      accountcategorycode: 2,
      telephone1: '555-0100',
      fax: '555-0101',
      emailaddress1: 'ap@acme.test',
      paymenttermscode: 1,
      creditlimit: '5000.00',
      statecode: 0,
      address1_line1: 'Acme Corp',
      address1_line2: '1 Main St',
      address1_line3: null,
      address1_city: 'Springfield',
      address1_stateorprovince: 'IL',
      address1_postalcode: '62701',
      address1_country: null,
      address2_line1: 'Dock 4',
      address2_line2: null,
      address2_line3: null,
      address2_city: null,
      address2_stateorprovince: null,
      address2_postalcode: null,
      address2_country: 'US',
    });
  });

  const cases: { title: string; extra: Partial<CustomerRet>; check: (a: Record<string, unknown>) => void }[] = [
    {
      title: 'sub-customer: leaf name plus the parent bound by its alternate key',
      extra: {
        name: 'Kitchen',
        fullName: 'Acme:Kitchen',
        parentRef: { listId: '80000002-1', fullName: 'Acme' },
        sublevel: 1,
      },
      check: (a) => {
        assert.equal(a.name, 'Kitchen');
        assert.equal(
          a['parentaccountid@odata.bind'],
          "/accounts(qbsync_companyfile='east-office',qbsync_qblistid='80000002-1')",
        );
      },
    },
    {
      title: 'top-level customer has no parent binding',
      extra: {},
      check: (a) => assert.equal('parentaccountid@odata.bind' in a, false),
    },
    {
      title: 'address lines 3 to 5 are folded into line 3, not dropped',
      extra: { billAddress: { addr1: 'A', addr2: 'B', addr3: 'C', addr4: 'D', addr5: 'E' } },
      check: (a) => assert.equal(a.address1_line3, 'C, D, E'),
    },
    {
      title: 'no customer type leaves the Dynamics-owned category alone',
      extra: {},
      check: (a) => assert.equal('accountcategorycode' in a, false),
    },
    {
      title: 'absent values become null so Dynamics clears them',
      extra: {},
      check: (a) => {
        assert.equal(a.telephone1, null);
        assert.equal(a.paymenttermscode, null);
        assert.equal(a.creditlimit, null);
      },
    },
  ];
  for (const c of cases) {
    it(c.title, () => c.check({ ...value(customerToAccount(customer(c.extra), ctx)) }));
  }

  const failures: { title: string; extra: Partial<CustomerRet>; companyFile?: string; field: string; rule: string }[] =
    [
      { title: 'missing name', extra: { name: '' }, field: 'name', rule: 'required' },
      { title: 'missing ListID', extra: { listId: '' }, field: 'listId', rule: 'required' },
      {
        title: 'unmapped terms',
        extra: { termsRef: { fullName: 'Due on receipt' } },
        field: 'termsRef',
        rule: 'unmapped-choice',
      },
      {
        title: 'unmapped customer type',
        extra: { customerTypeRef: { fullName: 'Gov' } },
        field: 'customerTypeRef',
        rule: 'unmapped-choice',
      },
      {
        title: 'prototype name is not a choice',
        extra: { termsRef: { fullName: 'constructor' } },
        field: 'termsRef',
        rule: 'unmapped-choice',
      },
      { title: 'malformed credit limit', extra: { creditLimit: '1e3' }, field: 'creditLimit', rule: 'decimal' },
      {
        title: 'sub-customer without parent ListID',
        extra: { fullName: 'Acme:Kitchen', name: 'Kitchen' },
        field: 'parentRef.listId',
        rule: 'required',
      },
      {
        title: 'company file unusable in a key',
        extra: {},
        companyFile: 'C:\\Books\\east.qbw',
        field: 'companyFile',
        rule: 'key-unsafe',
      },
    ];
  for (const f of failures) {
    it(`refuses: ${f.title}`, () => {
      assertError(
        customerToAccount(customer(f.extra), { ...ctx, companyFile: f.companyFile ?? ctx.companyFile }),
        f.field,
        f.rule,
      );
    });
  }

  it('reports every problem at once', () => {
    const result = customerToAccount(customer({ name: '', termsRef: { fullName: 'X' }, creditLimit: 'abc' }), ctx);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.errors.length, 3);
  });
});

describe('active status of customers and vendors', () => {
  it('an inactive customer or vendor is an inactive account; an active one, or one read without IsActive, is active', () => {
    assert.equal(value(customerToAccount(customer({ isActive: false }), ctx)).statecode, 1);
    assert.equal(value(customerToAccount(customer({ isActive: true }), ctx)).statecode, 0);
    assert.equal(value(customerToAccount(customer(), ctx)).statecode, 0);
    const vendor: VendorRet = { kind: 'Vendor', listId: 'V1', editSequence: '1', name: 'Supplies Co', isActive: false };
    assert.equal(value(vendorToAccount(vendor, ctx)).statecode, 1);
  });
  it('an inactive account is added as an inactive customer; an active one leaves IsActive to QuickBooks', () => {
    assert.equal(value(accountToCustomerAdd({ name: 'Gone Ltd', statecode: 1 }, { choices })).isActive, false);
    assert.equal('isActive' in value(accountToCustomerAdd({ name: 'Here Ltd', statecode: 0 }, { choices })), false);
  });
});

describe('customerContact / vendorContact', () => {
  const cases: { title: string; extra: Partial<CustomerRet>; expected: unknown }[] = [
    { title: 'no person fields → null', extra: { email: 'x@y.test' }, expected: null },
    {
      title: 'person with email and phone',
      extra: { firstName: 'Ada', lastName: 'Byron', jobTitle: 'CFO', email: 'ada@acme.test', phone: '555' },
      expected: {
        firstname: 'Ada',
        lastname: 'Byron',
        emailaddress1: 'ada@acme.test',
        telephone1: '555',
        jobtitle: 'CFO',
      },
    },
    {
      title: 'last name only',
      extra: { lastName: 'Byron' },
      expected: { firstname: null, lastname: 'Byron', emailaddress1: null, telephone1: null, jobtitle: null },
    },
  ];
  for (const c of cases) {
    it(c.title, () => assert.deepEqual(value(customerContact(customer(c.extra))), c.expected));
  }
  it('a first name without last name is an error, not an invented last name', () => {
    assertError(customerContact(customer({ firstName: 'Ada' })), 'lastName', 'required');
  });
  it('with a company file, the contact carries the key and binds to its account', () => {
    const contact = value(customerContact(customer({ lastName: 'Byron' }), { companyFile: 'east-office' }));
    assert.equal(contact?.qbsync_qblistid, '80000001-1446676743');
    assert.equal(
      contact?.['parentcustomerid_account@odata.bind'],
      "/accounts(qbsync_companyfile='east-office',qbsync_qblistid='80000001-1446676743')",
    );
  });
  it('vendor contact', () => {
    const v: VendorRet = { kind: 'Vendor', listId: 'V1', editSequence: '1', name: 'Supply Co', lastName: 'Smith' };
    assert.equal(value(vendorContact(v))?.lastname, 'Smith');
  });
});

describe('vendorToAccount', () => {
  it('relationship type Vendor, vendor address as address1', () => {
    const v: VendorRet = {
      kind: 'Vendor',
      listId: '80000009-1',
      editSequence: '1',
      name: 'Supply Co',
      vendorAddress: { addr1: '9 Mill Rd', city: 'Dayton' },
      termsRef: { fullName: 'Net 60' },
      creditLimit: '1200.5',
    };
    const a = value(vendorToAccount(v, ctx));
    assert.equal(a.customertypecode, 11);
    assert.equal(a.address1_line1, '9 Mill Rd');
    assert.equal(a.address1_city, 'Dayton');
    assert.equal(a.paymenttermscode, 4);
    assert.equal(a.creditlimit, '1200.50');
    assert.equal(a.qbsync_qblistid, '80000009-1');
  });
  it('refuses an unmapped vendor terms', () => {
    const v: VendorRet = { kind: 'Vendor', listId: 'V', editSequence: '1', name: 'S', termsRef: { fullName: 'COD' } };
    assertError(vendorToAccount(v, ctx), 'termsRef', 'unmapped-choice');
  });
});

const account: AccountRecord = {
  name: 'Globex',
  telephone1: '555-0199',
  emailaddress1: 'buy@globex.test',
  accountnumber: 'G-1',
  address1_line1: '10 Elm St',
  address1_city: 'Ogdenville',
  address1_stateorprovince: 'OR',
  address1_postalcode: '97001',
  address2_line1: 'Warehouse 2',
  paymenttermscode: 2,
  accountcategorycode: 1,
  customertypecode: 3,
  creditlimit: '2500',
};

describe('accountToCustomerAdd', () => {
  it('maps the account with QuickBooks names for terms and type', () => {
    assert.deepEqual(value(accountToCustomerAdd(account, { choices, parentListId: '8000000A-1' })), {
      name: 'Globex',
      parentRef: { listId: '8000000A-1' },
      billAddress: { addr1: '10 Elm St', city: 'Ogdenville', state: 'OR', postalCode: '97001' },
      shipAddress: { addr1: 'Warehouse 2' },
      phone: '555-0199',
      email: 'buy@globex.test',
      accountNumber: 'G-1',
      customerTypeRef: { fullName: 'Retail' },
      termsRef: { fullName: '2% 10 Net 30' },
      creditLimit: '2500.00',
    });
  });

  const limits: { title: string; patch: AccountRecord; field: string; rule: string }[] = [
    { title: 'name missing', patch: { name: null }, field: 'name', rule: 'required' },
    { title: 'name blank', patch: { name: '   ' }, field: 'name', rule: 'required' },
    { title: 'name 42 chars', patch: { name: 'N'.repeat(42) }, field: 'name', rule: 'max-length' },
    { title: 'name with colon', patch: { name: 'Globex:West' }, field: 'name', rule: 'forbidden-character' },
    {
      title: 'address line 42 chars',
      patch: { address1_line1: 'L'.repeat(42) },
      field: 'address1_line1',
      rule: 'max-length',
    },
    { title: 'city 32 chars', patch: { address1_city: 'C'.repeat(32) }, field: 'address1_city', rule: 'max-length' },
    {
      title: 'state 22 chars',
      patch: { address1_stateorprovince: 'S'.repeat(22) },
      field: 'address1_stateorprovince',
      rule: 'max-length',
    },
    {
      title: 'postal code 14 chars',
      patch: { address2_postalcode: '1'.repeat(14) },
      field: 'address2_postalcode',
      rule: 'max-length',
    },
    {
      title: 'country 32 chars',
      patch: { address2_country: 'K'.repeat(32) },
      field: 'address2_country',
      rule: 'max-length',
    },
    { title: 'phone 22 chars', patch: { telephone1: '5'.repeat(22) }, field: 'telephone1', rule: 'max-length' },
    {
      title: 'unmapped terms option',
      patch: { paymenttermscode: 3 },
      field: 'paymenttermscode',
      rule: 'unmapped-choice',
    },
    { title: 'vendor relationship', patch: { customertypecode: 11 }, field: 'customertypecode', rule: 'unsupported' },
    { title: 'credit limit below a cent', patch: { creditlimit: '10.005' }, field: 'creditlimit', rule: 'precision' },
  ];
  for (const l of limits) {
    it(`refuses: ${l.title}`, () =>
      assertError(accountToCustomerAdd({ ...account, ...l.patch }, { choices }), l.field, l.rule));
  }

  it('accepts values exactly at the limits (41-character name, 13-character postal code)', () => {
    const fields = value(
      accountToCustomerAdd({ ...account, name: 'N'.repeat(41), address1_postalcode: '1'.repeat(13) }, { choices }),
    );
    assert.equal(fields.name.length, 41);
  });
  it('counts characters, not UTF-16 units (41 emoji-free accented letters pass)', () => {
    assert.equal(value(accountToCustomerAdd({ ...account, name: 'é'.repeat(41) }, { choices })).name, 'é'.repeat(41));
  });
  it('two names sharing one option cannot be reversed', () => {
    const ambiguous = { ...choices, terms: { 'Net 30': 1, N30: 1 } };
    assertError(
      accountToCustomerAdd({ ...account, paymenttermscode: 1 }, { choices: ambiguous }),
      'paymenttermscode',
      'ambiguous-choice',
    );
  });
});

describe('accountToCustomerMod', () => {
  const current: CustomerRet = {
    kind: 'Customer',
    listId: '80000005-1',
    editSequence: '99',
    name: 'Globex',
    phone: '555-0199',
    email: 'buy@globex.test',
    accountNumber: 'G-1',
    billAddress: { addr1: '10 Elm St', city: 'Ogdenville', state: 'OR', postalCode: '97001' },
    shipAddress: { addr1: 'Warehouse 2' },
    termsRef: { listId: 'T2', fullName: '2% 10 Net 30' },
    customerTypeRef: { fullName: 'retail' },
    creditLimit: '2500.00',
  };

  it('returns null when QuickBooks already agrees (echo finds nothing to do)', () => {
    assert.equal(value(accountToCustomerMod(account, current, { choices })), null);
  });

  const cases: {
    title: string;
    patch: AccountRecord;
    currentPatch?: Partial<CustomerRet>;
    expected: Record<string, unknown>;
  }[] = [
    { title: 'renamed', patch: { name: 'Globex Corp' }, expected: { name: 'Globex Corp' } },
    { title: 'phone cleared in Dynamics is sent empty', patch: { telephone1: null }, expected: { phone: '' } },
    { title: 'credit limit changed', patch: { creditlimit: '3000' }, expected: { creditLimit: '3000.00' } },
    { title: 'terms changed', patch: { paymenttermscode: 4 }, expected: { termsRef: { fullName: 'Net 60' } } },
    {
      title: 'city changed sends the whole address',
      patch: { address1_city: 'Shelbyville' },
      expected: { billAddress: { addr1: '10 Elm St', city: 'Shelbyville', state: 'OR', postalCode: '97001' } },
    },
    {
      title: 'five-line QuickBooks address that came over folded is not rewritten',
      patch: { address2_line1: 'A', address2_line2: 'B', address2_line3: 'C, D, E' },
      currentPatch: { shipAddress: { addr1: 'A', addr2: 'B', addr3: 'C', addr4: 'D', addr5: 'E' } },
      expected: {},
    },
    {
      title: 'lines removed in Dynamics are cleared in QuickBooks',
      patch: { address2_line1: 'Warehouse 3' },
      currentPatch: { shipAddress: { addr1: 'Warehouse 2', addr2: 'Gate B' } },
      expected: { shipAddress: { addr1: 'Warehouse 3', addr2: '' } },
    },
    { title: 'deactivated in Dynamics', patch: { statecode: 1 }, expected: { isActive: false } },
    {
      title: 'reactivated in Dynamics',
      patch: { statecode: 0 },
      currentPatch: { isActive: false },
      expected: { isActive: true },
    },
    { title: 'inactive on both sides', patch: { statecode: 1 }, currentPatch: { isActive: false }, expected: {} },
  ];
  for (const c of cases) {
    it(c.title, () => {
      const mod = value(
        accountToCustomerMod({ ...account, ...c.patch }, { ...current, ...c.currentPatch }, { choices }),
      );
      if (Object.keys(c.expected).length === 0) {
        assert.equal(mod, null);
        return;
      }
      assert.deepEqual(mod, { listId: '80000005-1', editSequence: '99', ...c.expected });
    });
  }

  it('passes on the Add errors instead of a Mod', () => {
    assertError(accountToCustomerMod({ ...account, name: 'A:B' }, current, { choices }), 'name', 'forbidden-character');
  });
  it('needs the EditSequence', () => {
    assertError(
      accountToCustomerMod(account, { ...current, editSequence: '' }, { choices }),
      'current.editSequence',
      'required',
    );
  });
});

describe('changedColumns (diff before write on Dataverse)', () => {
  const cases: {
    title: string;
    desired: Record<string, unknown>;
    current: Record<string, unknown>;
    money?: string[];
    expected: unknown;
  }[] = [
    {
      title: 'equal row → null',
      desired: { name: 'A', telephone1: null },
      current: { name: 'A', telephone1: '' },
      expected: null,
    },
    {
      title: 'money equal by value',
      desired: { creditlimit: '5000.00' },
      current: { creditlimit: 5000 },
      money: ['creditlimit'],
      expected: null,
    },
    {
      title: 'text is not compared as a number',
      desired: { accountnumber: '007' },
      current: { accountnumber: '7' },
      expected: { accountnumber: '007' },
    },
    {
      title: 'changed column only',
      desired: { name: 'A', fax: '1' },
      current: { name: 'A', fax: '2' },
      expected: { fax: '1' },
    },
    {
      title: 'bindings are left to the caller',
      desired: { 'parentaccountid@odata.bind': '/accounts(x)' },
      current: {},
      expected: null,
    },
  ];
  for (const c of cases) {
    it(c.title, () => assert.deepEqual(changedColumns(c.desired, c.current, c.money ?? []), c.expected));
  }
});
