import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { type WebhookConnection } from '../../src/config/deployment';
import { dataverseWebhookRouter, defaultMaxWebhookBodyBytes } from '../../src/gateway/webhooks/dataverseWebhook';
import { type DataverseChangeSummary } from '../../src/workflows/dataverseChangeSummary';
import { dataverseRecordWorkflowId, quickBooksRecordWorkflowId, RecordIdError } from '../../src/mapping/entityRegistry';

const sampleText = readFileSync(
  join(__dirname, '..', 'fixtures', 'samples', 'dataverse', 'webhook-contact-update.json'),
  'utf8',
);
const contactId = '6d81597f-0f9f-e711-8122-000d3aa2331c';
const orderId = '9a1c5e2f-6b7d-4e8f-a0b1-c2d3e4f5a6b7';

const connections: Record<string, WebhookConnection> = {
  main: { name: 'main', auth: { kind: 'WebhookKey', key: 'k-secret' } },
  hdr: { name: 'hdr', auth: { kind: 'HttpHeader', key: 'h-secret', headerName: 'X-Api-Key' } },
  qs: { name: 'qs', auth: { kind: 'HttpQueryString', key: 'q-secret' } },
  qsnamed: { name: 'qsnamed', auth: { kind: 'HttpQueryString', key: 'q2-secret', headerName: 'token' } },
  broken: { name: 'broken', auth: { kind: 'HttpHeader', key: 'b-secret' } },
  empty: { name: 'empty', auth: { kind: 'WebhookKey', key: '' } },
};

const calls: { change: DataverseChangeSummary; connection: string }[] = [];
let failStarts = false;
let server: Server;
let base: string;

before(async () => {
  const app = express();
  app.use(
    dataverseWebhookRouter({
      resolveConnection: (name) => connections[name ?? 'main'],
      tag: 'qbsync',
      startRecordSync: async (change, connection) => {
        if (failStarts) throw new Error('temporal unavailable');
        calls.push({ change, connection });
        return { workflowId: `fake/${connection}/${change.entity}/${change.id}` };
      },
      log: pino({ level: 'silent' }),
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  calls.length = 0;
  failStarts = false;
});

async function deliver(
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function orderContext(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    MessageName: 'Update',
    PrimaryEntityName: 'salesorder',
    PrimaryEntityId: orderId,
    CorrelationId: 'b374239d-4233-41a9-8b17-a86cb4f737b5',
    OperationId: '4af10637-4ea2-e711-8122-000d3aa2331c',
    InputParameters: [
      {
        key: 'Target',
        value: {
          __type: 'Entity:http://schemas.microsoft.com/xrm/2011/Contracts',
          LogicalName: 'salesorder',
          Id: orderId,
          Attributes: [
            { key: 'name', value: 'SO-1001' },
            { key: 'modifiedon', value: '/Date(1506384247000)/' },
          ],
        },
      },
    ],
    SharedVariables: [],
    ...extra,
  };
}

describe('authentication', () => {
  const cases: { name: string; path: string; headers?: Record<string, string>; status: number }[] = [
    { name: 'no key at all', path: '/webhooks/dataverse', status: 401 },
    { name: 'wrong ?code=', path: '/webhooks/dataverse?code=nope', status: 401 },
    { name: 'key one character short', path: '/webhooks/dataverse?code=k-secre', status: 401 },
    { name: 'WebhookKey in ?code=', path: '/webhooks/dataverse?code=k-secret', status: 202 },
    {
      name: 'WebhookKey in x-functions-key',
      path: '/webhooks/dataverse',
      headers: { 'x-functions-key': 'k-secret' },
      status: 202,
    },
    {
      name: 'WebhookKey sent in another header',
      path: '/webhooks/dataverse',
      headers: { 'x-api-key': 'k-secret' },
      status: 401,
    },
    { name: 'repeated ?code= is refused', path: '/webhooks/dataverse?code=k-secret&code=k-secret', status: 401 },
    { name: 'named connection, WebhookKey', path: '/webhooks/dataverse/main?code=k-secret', status: 202 },
    {
      name: 'HttpHeader with its header',
      path: '/webhooks/dataverse/hdr',
      headers: { 'X-Api-Key': 'h-secret' },
      status: 202,
    },
    {
      name: 'HttpHeader with a wrong value',
      path: '/webhooks/dataverse/hdr',
      headers: { 'X-Api-Key': 'h-secreT' },
      status: 401,
    },
    { name: 'HttpHeader key sent as ?code= (wrong kind)', path: '/webhooks/dataverse/hdr?code=h-secret', status: 401 },
    { name: 'HttpQueryString ?code=', path: '/webhooks/dataverse/qs?code=q-secret', status: 202 },
    {
      name: 'HttpQueryString key sent as x-functions-key',
      path: '/webhooks/dataverse/qs',
      headers: { 'x-functions-key': 'q-secret' },
      status: 401,
    },
    {
      name: 'HttpQueryString with a named parameter',
      path: '/webhooks/dataverse/qsnamed?token=q2-secret',
      status: 202,
    },
    { name: 'named parameter sent as code', path: '/webhooks/dataverse/qsnamed?code=q2-secret', status: 401 },
    { name: 'unknown connection', path: '/webhooks/dataverse/nobody?code=k-secret', status: 401 },
    {
      name: 'HttpHeader without a configured header name',
      path: '/webhooks/dataverse/broken',
      headers: { 'x-functions-key': 'b-secret' },
      status: 401,
    },
    {
      name: 'empty configured key never matches an empty secret',
      path: '/webhooks/dataverse/empty?code=',
      status: 401,
    },
  ];
  for (const { name, path, headers, status } of cases) {
    it(`${name} → ${status}`, async () => {
      const result = await deliver(path, JSON.stringify(orderContext()), headers);
      assert.equal(result.status, status);
      if (status === 401) {
        assert.deepEqual(result.json, { error: 'unauthorized' });
        assert.equal(calls.length, 0);
      } else {
        assert.equal(calls.length, 1);
      }
    });
  }

  it('rejects before reading the body: bad key with malformed JSON is 401, not 400', async () => {
    const result = await deliver('/webhooks/dataverse?code=nope', '{not json');
    assert.equal(result.status, 401);
    assert.equal(calls.length, 0);
  });
});

describe('deliveries', () => {
  it('a contact delivery (the recorded sample) is acknowledged and dropped: contacts only flow from QuickBooks', async () => {
    const result = await deliver('/webhooks/dataverse?code=k-secret', sampleText);
    assert.equal(result.status, 202);
    assert.deepEqual(result.json, { ignored: 'entity' });
    assert.equal(calls.length, 0);
  });

  it('answers 202 with the workflow id and hands over a value-free summary', async () => {
    // The recorded delivery is a contact's, which the connector drops; replayed as an account's, it is taken.
    const asAccount = sampleText.replace(/"PrimaryEntityName": "contact"/g, '"PrimaryEntityName": "account"');
    const result = await deliver('/webhooks/dataverse?code=k-secret', asAccount);
    assert.equal(result.status, 202);
    assert.deepEqual(result.json, { workflowId: `fake/main/account/${contactId}` });
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], {
      connection: 'main',
      change: {
        messageName: 'Update',
        entity: 'account',
        id: contactId,
        correlationId: 'b374239d-4233-41a9-8b17-a86cb4f737b5',
        operationId: '4af10637-4ea2-e711-8122-000d3aa2331c',
        modifiedOn: '2017-09-26T00:04:07.000Z',
        changedAttributes: [
          'firstname',
          'contactid',
          'fullname',
          'yomifullname',
          'modifiedon',
          'modifiedby',
          'modifiedonbehalfby',
        ],
        needsRead: false,
      },
    });
    assert.doesNotMatch(JSON.stringify(calls[0]), /James/);
  });

  it('accepts a body led by a UTF-8 byte-order mark', async () => {
    const result = await deliver('/webhooks/dataverse?code=k-secret', `\uFEFF${JSON.stringify(orderContext())}`);
    assert.equal(result.status, 202);
    assert.equal(calls[0]?.change.entity, 'salesorder');
  });

  const ignored: { name: string; body: Record<string, unknown>; ignored: string }[] = [
    {
      name: 'our own echo (top-level tag)',
      body: orderContext({ SharedVariables: [{ key: 'tag', value: 'qbsync' }] }),
      ignored: 'echo',
    },
    {
      name: 'our own echo (tag on the parent context)',
      body: orderContext({ ParentContext: { SharedVariables: [{ key: 'tag', value: 'qbsync' }] } }),
      ignored: 'echo',
    },
    { name: 'unsupported table', body: orderContext({ PrimaryEntityName: 'incident' }), ignored: 'entity' },
  ];
  for (const { name, body, ignored: reason } of ignored) {
    it(`${name} → 202 ignored, nothing started`, async () => {
      const result = await deliver('/webhooks/dataverse?code=k-secret', JSON.stringify(body));
      assert.equal(result.status, 202);
      assert.deepEqual(result.json, { ignored: reason });
      assert.equal(calls.length, 0);
    });
  }

  it('does not treat someone else’s tag as an echo', async () => {
    const body = orderContext({ SharedVariables: [{ key: 'tag', value: 'other-integration' }] });
    const result = await deliver('/webhooks/dataverse?code=k-secret', JSON.stringify(body));
    assert.equal(result.status, 202);
    assert.equal(calls.length, 1);
  });

  const bad: { name: string; body: string; error: RegExp }[] = [
    { name: 'malformed JSON', body: '{"MessageName": "Update",', error: /^malformed JSON: / },
    { name: 'empty body', body: '', error: /^empty body/ },
    { name: 'JSON that is not a context', body: '{"hello": 1}', error: /MessageName is missing/ },
    { name: 'a JSON array', body: '[1,2]', error: /must be a JSON object, got array/ },
    {
      name: 'bad GUID',
      body: JSON.stringify(orderContext({ PrimaryEntityId: 'x' })),
      error: /PrimaryEntityId is not a GUID/,
    },
  ];
  for (const { name, body, error } of bad) {
    it(`${name} → 400 with a clear message`, async () => {
      const result = await deliver('/webhooks/dataverse?code=k-secret', body);
      assert.equal(result.status, 400);
      assert.match(String(result.json.error), error);
      assert.equal(calls.length, 0);
    });
  }

  it('a shortened (over 256 KB) delivery starts a sync that must read the row', async () => {
    const shortened = {
      MessageName: 'Update',
      PrimaryEntityId: orderId.toUpperCase(),
      CorrelationId: 'b374239d-4233-41a9-8b17-a86cb4f737b5',
      SharedVariables: [],
    };
    const result = await deliver('/webhooks/dataverse?code=k-secret', JSON.stringify(shortened), {
      'x-ms-dynamics-msg-size-exceeded': '',
      'x-ms-dynamics-entity-name': 'salesorder',
    });
    assert.equal(result.status, 202);
    assert.deepEqual(calls[0]?.change, {
      messageName: 'Update',
      entity: 'salesorder',
      id: orderId,
      correlationId: 'b374239d-4233-41a9-8b17-a86cb4f737b5',
      changedAttributes: [],
      needsRead: true,
    });
  });

  it('a shortened delivery with no entity anywhere is a 400', async () => {
    const result = await deliver(
      '/webhooks/dataverse?code=k-secret',
      JSON.stringify({ MessageName: 'Update', PrimaryEntityId: orderId, CorrelationId: orderId }),
      { 'x-ms-dynamics-msg-size-exceeded': 'true' },
    );
    assert.equal(result.status, 400);
    assert.match(String(result.json.error), /PrimaryEntityName is missing/);
  });

  it('an oversized body → 413, nothing started', async () => {
    const padding = 'x'.repeat(defaultMaxWebhookBodyBytes);
    const body = JSON.stringify(orderContext({ Padding: padding }));
    const result = await deliver('/webhooks/dataverse?code=k-secret', body);
    assert.equal(result.status, 413);
    assert.equal(result.json.limitBytes, defaultMaxWebhookBodyBytes);
    assert.equal(calls.length, 0);
  });

  it('a body just under the limit is accepted', async () => {
    const shell = JSON.stringify(orderContext({ Padding: '' }));
    const padding = 'x'.repeat(defaultMaxWebhookBodyBytes - Buffer.byteLength(shell));
    const result = await deliver(
      '/webhooks/dataverse?code=k-secret',
      JSON.stringify(orderContext({ Padding: padding })),
    );
    assert.equal(result.status, 202);
  });

  it('when the workflow engine is unreachable → 503 so Dataverse retries', async () => {
    failStarts = true;
    const result = await deliver('/webhooks/dataverse?code=k-secret', JSON.stringify(orderContext()));
    assert.equal(result.status, 503);
  });

  it('only POST is routed', async () => {
    const response = await fetch(`${base}/webhooks/dataverse?code=k-secret`);
    assert.equal(response.status, 404);
  });
});

describe('a body far beyond the limit', () => {
  let small: Server;
  let smallBase: string;
  before(async () => {
    const app = express();
    app.use(
      dataverseWebhookRouter({
        resolveConnection: () => connections.main,
        tag: 'qbsync',
        startRecordSync: async (change, connection) => {
          calls.push({ change, connection });
          return { workflowId: 'never' };
        },
        log: pino({ level: 'silent' }),
        maxBodyBytes: 1000,
      }),
    );
    small = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => small.once('listening', resolve));
    smallBase = `http://127.0.0.1:${(small.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => small.close(() => resolve()));
  });

  for (const size of [1001, 3999, 50_000]) {
    it(`${size} bytes against a 1000-byte limit → 413`, async () => {
      const response = await fetch(`${smallBase}/webhooks/dataverse?code=k-secret`, {
        method: 'POST',
        body: 'x'.repeat(size),
      });
      assert.equal(response.status, 413);
      assert.equal(calls.length, 0);
    });
  }
});

describe('record workflow ids (what the webhook signals into)', () => {
  it('d365 ids name the row alone (one organisation serves every connection) and lower-case the GUID', () => {
    assert.equal(dataverseRecordWorkflowId('salesorder', orderId.toUpperCase()), `d365/salesorder/${orderId}`);
  });
  it('qb ids keep the ListID verbatim', () => {
    assert.equal(
      quickBooksRecordWorkflowId('east', 'customer', '80000001-1234567890'),
      'qb/east/customer/80000001-1234567890',
    );
  });
  const bad: [string, string, string, RegExp][] = [
    ['', 'account', orderId, /connection must not be empty/],
    ['east', '', orderId, /entity must not be empty/],
    ['east', 'account', '', /id must not be empty/],
    ['a/b', 'account', orderId, /connection must not contain '\/'/],
    ['east', 'account', 'x/y', /id must not contain '\/'/],
    [' east', 'account', orderId, /connection must not have surrounding whitespace/],
  ];
  for (const [connection, entity, id, message] of bad) {
    it(`qb ids reject ${JSON.stringify([connection, entity, id])}`, () => {
      assert.throws(
        () => quickBooksRecordWorkflowId(connection, entity, id),
        (error: unknown) => error instanceof RecordIdError && message.test(error.message),
      );
    });
  }
  for (const [entity, id, message] of [
    ['', orderId, /entity must not be empty/],
    ['account', '', /id must not be empty/],
    ['account', 'x/y', /id must not contain '\/'/],
  ] as const) {
    it(`d365 ids reject ${JSON.stringify([entity, id])}`, () => {
      assert.throws(
        () => dataverseRecordWorkflowId(entity, id),
        (error: unknown) => error instanceof RecordIdError && message.test(error.message),
      );
    });
  }
});
