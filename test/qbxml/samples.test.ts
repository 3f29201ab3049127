import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildQbxmlMessage,
  classifyStatus,
  parseQbxmlResponse,
  QbxmlSyntaxError,
  type QbxmlRequest,
} from '../../src/qbxml';
import { parseXmlDocument } from '../../src/qbxml/xml';
import { descendantNames, requestElements } from './elementOrder';

const SAMPLES = join(__dirname, '..', 'fixtures', 'samples', 'qbxml');
const sample = (name: string): string => readFileSync(join(SAMPLES, name), 'utf8');

describe('response samples', () => {
  it('parses the CustomerQueryRs from the QBWC log: iterator attributes and CustomerRet fields', () => {
    const [res, ...rest] = parseQbxmlResponse(sample('customer-query-rs.from-qbwc-log.xml'));
    assert.equal(rest.length, 0);
    assert.ok(res);
    assert.equal(res.type, 'CustomerQueryRs');
    assert.equal(res.requestId, '241');
    assert.equal(res.statusCode, 0);
    assert.equal(res.statusSeverity, 'Info');
    assert.equal(res.statusMessage, 'Status OK');
    assert.equal(res.iteratorId, '{84ff5521-205d-46b6-9d44-7b6b9acb7165}');
    assert.equal(res.iteratorRemainingCount, 0);
    assert.equal(classifyStatus(res), 'ok');
    assert.deepEqual(res.records, [
      {
        kind: 'Customer',
        listId: '80000003-1446676743',
        timeCreated: '2015-11-04T14:39:03-08:00',
        timeModified: '2015-11-04T14:39:03-08:00',
        editSequence: '1446676743',
        name: 'abcde',
        fullName: 'abcde',
        isActive: true,
        sublevel: 0,
        balance: '0.00',
        totalBalance: '0.00',
        jobStatus: 'None',
        preferredDeliveryMethod: 'None',
      },
    ]);
  });

  it('refuses the hand-prettified SOAP sample as published (it is not well-formed XML)', () => {
    assert.throws(() => parseXmlDocument(sample('item-inventory-query-rs-status1-nomatch.soap.xml')), QbxmlSyntaxError);
  });

  it('reads statusCode 1 from the inner qbXML of the SOAP sample as an empty result', () => {
    const raw = sample('item-inventory-query-rs-status1-nomatch.soap.xml');
    const inner = /<response>([\s\S]*)<\/response>/.exec(raw)?.[1]?.trim();
    assert.ok(inner);
    const [res] = parseQbxmlResponse(inner);
    assert.ok(res);
    assert.equal(res.type, 'ItemInventoryQueryRs');
    assert.equal(res.requestId, '1');
    assert.equal(res.statusCode, 1);
    assert.equal(res.statusSeverity, 'Info');
    assert.equal(res.statusMessage, 'A query request did not find a matching object in QuickBooks');
    assert.deepEqual(res.records, []);
    assert.equal(classifyStatus(res), 'empty');
  });
});

/**
 * Intuit's request samples are old qbXML (2.0/3.0, `1` booleans), so we compare the order of element names in
 * each `*Rq`, not bytes.
 */
const requestCases: Array<{ file: string; sampleRq: string; requests: QbxmlRequest[] }> = [
  {
    file: 'customer-add-rq.xml',
    sampleRq: 'CustomerAddRq',
    requests: [
      {
        type: 'CustomerAdd',
        requestId: '2',
        fields: {
          name: 'Joe Customer',
          isActive: true,
          companyName: 'Joes Garage',
          salutation: 'Mr',
          firstName: 'Joe',
          lastName: 'Customer',
          billAddress: { addr1: '123 Main St.', city: 'Mountain View', state: 'CA', postalCode: '94566' },
          phone: '650-944-1111',
          altPhone: '650-944-2111',
          email: 'joe@joegargage.com',
          termsRef: { fullName: 'Net 30' },
          accountNumber: '89087',
          creditLimit: '2000.00',
        },
      },
      {
        type: 'CustomerAdd',
        requestId: '3',
        fields: {
          name: 'Equipment Installation',
          isActive: true,
          parentRef: { fullName: 'Joe Customer' },
          jobStatus: 'Awarded',
          jobStartDate: '2001-03-01',
          jobProjectedEndDate: '2001-12-01',
          jobEndDate: '2001-12-15',
          jobDesc: 'Install new smog equipment',
        },
      },
    ],
  },
  {
    file: 'vendor-add-rq.xml',
    sampleRq: 'VendorAddRq',
    requests: [
      {
        type: 'VendorAdd',
        requestId: '1',
        fields: {
          name: 'Acme',
          isActive: true,
          companyName: 'Acme Food Products',
          salutation: 'Mr',
          firstName: 'Mike',
          lastName: 'Acme',
          vendorAddress: {
            addr1: '4600 N. 1st St.',
            addr2: 'Suite B',
            city: 'San Francisco',
            state: 'CA',
            postalCode: '94044',
            country: 'USA',
          },
          phone: '650-987-9654',
          altPhone: '650-214-6549',
          fax: '650-214-6549',
          email: 'Beka@bestfoods.com',
          contact: 'Mr Leon',
          nameOnCheck: 'Acme Food Products',
          accountNumber: '1239-854',
          vendorTypeRef: { fullName: 'Materials' },
          termsRef: { fullName: '1% 10 Net 30' },
          creditLimit: '10000.00',
        },
      },
    ],
  },
  {
    file: 'dataext-add-rq.xml',
    sampleRq: 'DataExtAddRq',
    requests: [
      {
        type: 'DataExtAdd',
        requestId: '0',
        fields: {
          ownerId: '0',
          dataExtName: "Spouse's Name",
          target: { kind: 'list', listDataExtType: 'Customer', listObjRef: { fullName: 'Baker, Chris' } },
          dataExtValue: 'Robin',
        },
      },
    ],
  },
  {
    file: 'dataext-mod-rq.xml',
    sampleRq: 'DataExtModRq',
    requests: [
      {
        type: 'DataExtMod',
        requestId: '0',
        fields: {
          ownerId: '0',
          dataExtName: "Spouse's Name",
          target: { kind: 'list', listDataExtType: 'Customer', listObjRef: { fullName: 'Abercrombie, Kristy' } },
          dataExtValue: 'Gary',
        },
      },
    ],
  },
  {
    file: 'customer-query-rq-by-fullname.xml',
    sampleRq: 'CustomerQueryRq',
    requests: [
      { type: 'CustomerQuery', requestId: '2', fullNames: ['Joe Customer', 'Joe Customer:Equipment Installation'] },
    ],
  },
];

describe('request samples: our element order matches Intuit’s', () => {
  for (const { file, sampleRq, requests } of requestCases) {
    it(file, () => {
      const theirs = requestElements(sample(file)).filter((rq) => rq.name === sampleRq);
      const ours = requestElements(buildQbxmlMessage(requests, { onError: 'stopOnError' }));
      assert.equal(ours.length, theirs.length);
      theirs.forEach((theirRq, i) => {
        const ourRq = ours[i];
        assert.ok(ourRq);
        assert.equal(ourRq.name, theirRq.name);
        assert.equal(ourRq.attributes.requestID, theirRq.attributes.requestID);
        assert.deepEqual(descendantNames(ourRq), descendantNames(theirRq));
      });
    });
  }

  it('the samples carry values our builder reproduces (text survives, booleans become true)', () => {
    const theirs = requestElements(sample('dataext-add-rq.xml'))[0];
    const firstCase = requestCases.find((c) => c.file === 'dataext-add-rq.xml')?.requests ?? [];
    const ours = requestElements(buildQbxmlMessage(firstCase))[0];
    assert.ok(theirs && ours);
    const texts = (el: typeof theirs): string[] =>
      el.children.flatMap((c) => (c.children.length === 0 ? [c.text] : texts(c)));
    assert.deepEqual(texts(ours), texts(theirs));
  });
});
