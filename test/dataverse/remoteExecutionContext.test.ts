import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseRemoteExecutionContext,
  parseWcfDate,
  WebhookPayloadError,
  type DataverseValue,
} from '../../src/dataverse/remoteExecutionContext';

const sample: unknown = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'samples', 'dataverse', 'webhook-contact-update.json'), 'utf8'),
);

const orderId = '9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7';
const correlationId = 'b374239d-4233-41a9-8b17-a86cb4f737b5';

/** A minimal Update context whose Target carries one attribute with the given raw value. */
function contextWith(attributeValue: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    MessageName: 'Update',
    PrimaryEntityName: 'salesorder',
    PrimaryEntityId: orderId,
    CorrelationId: correlationId,
    InputParameters: [
      {
        key: 'Target',
        value: {
          __type: 'Entity:http://schemas.microsoft.com/xrm/2011/Contracts',
          LogicalName: 'salesorder',
          Id: orderId,
          Attributes: [{ key: 'field', value: attributeValue }],
        },
      },
    ],
    SharedVariables: [],
    ...extra,
  };
}

function fieldOf(raw: unknown): DataverseValue | undefined {
  return parseRemoteExecutionContext(contextWith(raw)).attributes.field;
}

describe('parseRemoteExecutionContext on the published sample', () => {
  const change = parseRemoteExecutionContext(sample);

  it('reads the top-level identity of the change', () => {
    assert.equal(change.messageName, 'Update');
    assert.equal(change.entityName, 'contact');
    assert.equal(change.entityId, '6d81597f-0f9f-e711-8122-000d3aa2331c');
    assert.equal(change.correlationId, correlationId);
    assert.equal(change.organizationName, 'OrgName');
    assert.equal(change.operationId, '4af10637-4ea2-e711-8122-000d3aa2331c');
    assert.equal(change.initiatingUserId, '75c2dd85-e89e-e711-8122-000d3aa2331c');
    assert.equal(change.depth, 1);
    assert.equal(change.stage, 40);
    assert.equal(change.mode, 1);
    assert.equal(change.requestId, undefined);
  });

  it('converts OperationCreatedOn with an offset to UTC ISO (the milliseconds are already UTC)', () => {
    assert.equal(change.operationCreatedOn, '2017-09-26T07:04:08.000Z');
  });

  it('turns the Target attribute array into a map with converted values', () => {
    assert.deepEqual(Object.keys(change.attributes), [
      'firstname',
      'contactid',
      'fullname',
      'yomifullname',
      'modifiedon',
      'modifiedby',
      'modifiedonbehalfby',
    ]);
    assert.equal(change.attributes.firstname, 'James');
    assert.equal(change.attributes.modifiedon, '2017-09-26T00:04:07.000Z');
    assert.deepEqual(change.attributes.modifiedby, {
      logicalName: 'systemuser',
      id: '75c2dd85-e89e-e711-8122-000d3aa2331c',
    });
    assert.equal(change.attributes.modifiedonbehalfby, null);
  });

  it('reads the async post-image and leaves the empty pre-image out', () => {
    assert.deepEqual(change.postImage, {
      fullname: 'James Glynn (sample)',
      contactid: '6d81597f-0f9f-e711-8122-000d3aa2331c',
    });
    assert.equal(change.preImage, undefined);
  });

  it('keeps only scalar shared variables (ChangedEntityTypes of the parent is a list)', () => {
    assert.deepEqual(change.sharedVariables, {});
  });
});

describe('value conversion', () => {
  const cases: { name: string; raw: unknown; expected: DataverseValue }[] = [
    { name: 'plain string', raw: 'SO-1001', expected: 'SO-1001' },
    { name: 'string that only looks like a date stays text', raw: 'see /Date(1)/', expected: 'see /Date(1)/' },
    { name: 'integer', raw: 42, expected: 42 },
    { name: 'boolean', raw: false, expected: false },
    { name: 'null', raw: null, expected: null },
    { name: 'date', raw: '/Date(1506384247000)/', expected: '2017-09-26T00:04:07.000Z' },
    { name: 'date with +0000 offset', raw: '/Date(1722582039000+0000)/', expected: '2024-08-02T07:00:39.000Z' },
    { name: 'date before 1970', raw: '/Date(-86400000)/', expected: '1969-12-31T00:00:00.000Z' },
    {
      name: 'EntityReference with a name',
      raw: {
        __type: 'EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts',
        Id: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE',
        LogicalName: 'account',
        Name: 'Fourth Coffee',
        KeyAttributes: [],
        RowVersion: null,
      },
      expected: { logicalName: 'account', id: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', name: 'Fourth Coffee' },
    },
    {
      name: 'OptionSetValue',
      raw: { __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 100001 },
      expected: 100001,
    },
    {
      name: 'Money with cents',
      raw: { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 1234.56 },
      expected: '1234.56',
    },
    {
      name: 'Money that binary floats cannot hold exactly',
      raw: { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 0.1 },
      expected: '0.1',
    },
    {
      name: 'Money at 4 decimals and 15 digits',
      raw: { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 99999999999.9999 },
      expected: '99999999999.9999',
    },
    {
      name: 'Money tiny (no exponent notation)',
      raw: { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 1e-7 },
      expected: '0.0000001',
    },
    {
      name: 'Money sent as a string',
      raw: { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: '19.9900' },
      expected: '19.99',
    },
    {
      name: 'nested array of typed values',
      raw: [
        { __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 1 },
        '/Date(0)/',
        [true],
      ],
      expected: [1, '1970-01-01T00:00:00.000Z', [true]],
    },
    {
      name: 'array of key/value pairs becomes a map',
      raw: [
        { __type: 'KeyValuePairOfstringstring:#System.Collections.Generic', key: 'contact', value: 'Update' },
        { key: 'account', value: 'Create' },
      ],
      expected: { contact: 'Update', account: 'Create' },
    },
    {
      name: 'EntityCollection (activity parties)',
      raw: {
        __type: 'EntityCollection:http://schemas.microsoft.com/xrm/2011/Contracts',
        Entities: [
          {
            __type: 'Entity:http://schemas.microsoft.com/xrm/2011/Contracts',
            LogicalName: 'activityparty',
            Id: orderId,
            Attributes: [{ key: 'participationtypemask', value: { __type: 'OptionSetValue:x', Value: 2 } }],
          },
        ],
      },
      expected: [{ logicalName: 'activityparty', id: orderId, attributes: { participationtypemask: 2 } }],
    },
    {
      name: 'untyped reference (as OwningExtension is sent)',
      raw: { Id: orderId, LogicalName: 'sdkmessageprocessingstep', Name: null },
      expected: { logicalName: 'sdkmessageprocessingstep', id: orderId },
    },
    { name: 'unknown typed object keeps its fields', raw: { __type: 'Custom:x', A: 1 }, expected: { A: 1 } },
  ];
  for (const { name, raw, expected } of cases) {
    it(name, () => assert.deepEqual(fieldOf(raw), expected));
  }
});

describe('shared variables and images', () => {
  it('finds the ?tag= echo marker at the top level', () => {
    const change = parseRemoteExecutionContext(
      contextWith('x', { SharedVariables: [{ key: 'tag', value: 'qbsync' }] }),
    );
    assert.equal(change.sharedVariables.tag, 'qbsync');
  });

  it('finds the tag on a parent context, the inner context winning on conflicts', () => {
    const parent = {
      SharedVariables: [
        { key: 'tag', value: 'qbsync' },
        { key: 'IsAutoTransact', value: true },
      ],
    };
    const change = parseRemoteExecutionContext(
      contextWith('x', { SharedVariables: [{ key: 'IsAutoTransact', value: false }], ParentContext: parent }),
    );
    assert.deepEqual(change.sharedVariables, { tag: 'qbsync', IsAutoTransact: false });
  });

  it('merges named pre-images into one attribute map', () => {
    const image = (attrs: unknown[]): unknown => ({ LogicalName: 'salesorder', Id: orderId, Attributes: attrs });
    const change = parseRemoteExecutionContext(
      contextWith('x', {
        PreEntityImages: [
          { key: 'a', value: image([{ key: 'name', value: 'SO-1' }]) },
          { key: 'b', value: image([{ key: 'totalamount', value: { __type: 'Money:x', Value: 5 } }]) },
        ],
      }),
    );
    assert.deepEqual(change.preImage, { name: 'SO-1', totalamount: '5' });
  });

  it('accepts a shortened (over 256 KB) context without InputParameters or images', () => {
    const change = parseRemoteExecutionContext({
      MessageName: 'Update',
      PrimaryEntityName: 'salesorder',
      PrimaryEntityId: orderId.toUpperCase(),
      CorrelationId: correlationId,
    });
    assert.deepEqual(change.attributes, {});
    assert.equal(change.entityId, orderId);
  });

  it('gives Delete (Target is a reference) no attributes', () => {
    const change = parseRemoteExecutionContext({
      ...contextWith('x'),
      MessageName: 'Delete',
      InputParameters: [
        { key: 'Target', value: { __type: 'EntityReference:x', LogicalName: 'salesorder', Id: orderId } },
      ],
    });
    assert.equal(change.messageName, 'Delete');
    assert.deepEqual(change.attributes, {});
  });
});

describe('parseWcfDate', () => {
  const cases: [string, string | undefined][] = [
    ['/Date(0)/', '1970-01-01T00:00:00.000Z'],
    ['/Date(1506409448000-0700)/', '2017-09-26T07:04:08.000Z'],
    ['/Date()/', undefined],
    ['/Date(12ab)/', undefined],
    ['Date(0)', undefined],
    ['/Date(99999999999999999999)/', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${String(expected)}`, () => assert.equal(parseWcfDate(text), expected));
  }
});

describe('invalid payloads', () => {
  const base = contextWith('x');
  const cases: { name: string; body: unknown; message: RegExp }[] = [
    { name: 'not an object', body: [], message: /must be a JSON object, got array/ },
    { name: 'null', body: null, message: /must be a JSON object, got null/ },
    { name: 'no MessageName', body: { ...base, MessageName: undefined }, message: /MessageName is missing/ },
    { name: 'MessageName not a string', body: { ...base, MessageName: 3 }, message: /MessageName must be a string/ },
    { name: 'no PrimaryEntityName', body: { ...base, PrimaryEntityName: '' }, message: /PrimaryEntityName is missing/ },
    {
      name: 'PrimaryEntityName not a logical name',
      body: { ...base, PrimaryEntityName: 'sales order' },
      message: /not a logical name/,
    },
    {
      name: 'PrimaryEntityId not a GUID',
      body: { ...base, PrimaryEntityId: '42' },
      message: /PrimaryEntityId is not a GUID/,
    },
    { name: 'no CorrelationId', body: { ...base, CorrelationId: null }, message: /CorrelationId is missing/ },
    { name: 'Depth not an integer', body: { ...base, Depth: 1.5 }, message: /Depth must be an integer/ },
    {
      name: 'OperationCreatedOn not a date',
      body: { ...base, OperationCreatedOn: '2017-09-26' },
      message: /OperationCreatedOn is not a \/Date/,
    },
    {
      name: 'InputParameters not an array',
      body: { ...base, InputParameters: { Target: {} } },
      message: /InputParameters must be an array of \{key, value\}, got object/,
    },
    {
      name: 'key/value entry without a key',
      body: { ...base, SharedVariables: [{ value: 'qbsync' }] },
      message: /SharedVariables\[0\] must be an object with a string "key"/,
    },
    {
      name: 'EntityReference without LogicalName',
      body: contextWith({ __type: 'EntityReference:x', Id: orderId }),
      message: /\[field\]\.LogicalName is missing/,
    },
    {
      name: 'OptionSetValue without an integer',
      body: contextWith({ __type: 'OptionSetValue:x', Value: '1' }),
      message: /OptionSetValue.Value must be an integer, got string/,
    },
    {
      name: 'Money with a non-decimal string',
      body: contextWith({ __type: 'Money:x', Value: '1e5' }),
      message: /Money value is not a decimal/,
    },
    { name: 'Money missing', body: contextWith({ __type: 'Money:x' }), message: /Money value must be a number/ },
    {
      name: 'image that is not an entity',
      body: { ...base, PostEntityImages: [{ key: 'img', value: 'nope' }] },
      message: /PostEntityImages\[img\] must be an Entity/,
    },
    {
      name: 'ParentContext not an object',
      body: { ...base, ParentContext: 'x' },
      message: /ParentContext must be an object/,
    },
  ];
  for (const { name, body, message } of cases) {
    it(name, () => {
      assert.throws(
        () => parseRemoteExecutionContext(body),
        (error: unknown) => error instanceof WebhookPayloadError && message.test(error.message),
      );
    });
  }
});
