import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { startDataverseSandbox, type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { provisionKey, startForTest, tokenFor, WebApiClient } from './sandboxClient';

function batchBody(boundary: string, changeset: string, parts: string[], get?: string): string {
  const lines = [`--${boundary}`, `Content-Type: multipart/mixed;boundary=${changeset}`, ''];
  parts.forEach((p) =>
    lines.push(`--${changeset}`, 'Content-Type: application/http', 'Content-Transfer-Encoding:binary', p),
  );
  lines.push(`--${changeset}--`, '');
  if (get !== undefined)
    lines.push(
      `--${boundary}`,
      'Content-Type: application/http',
      'Content-Transfer-Encoding:binary',
      '',
      get,
      'Accept: application/json',
      '',
    );
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

describe('$batch', () => {
  let sandbox: DataverseSandbox;
  let client: WebApiClient;
  before(async () => {
    ({ sandbox, client } = await startForTest('batch'));
  });
  after(async () => sandbox.close());

  it('runs a change set with Content-ID references and answers in the sample multipart layout', async () => {
    const body = batchBody(
      'batch_AAA123',
      'changeset_BBB456',
      [
        `Content-ID: 1\r\n\r\nPOST ${sandbox.webApiUrl}accounts HTTP/1.1\r\nContent-Type: application/json;type=entry\r\n\r\n{"name":"Batch parent"}`,
        `Content-ID: 2\r\n\r\nPOST ${sandbox.webApiUrl}contacts HTTP/1.1\r\nContent-Type: application/json;type=entry\r\n\r\n{"lastname":"Child","parentcustomerid_account@odata.bind":"$1"}`,
      ],
      `GET ${sandbox.webApiUrl}contacts?$select=fullname HTTP/1.1`,
    );
    const response = await client.call('POST', '$batch', body, {
      'Content-Type': 'multipart/mixed;boundary=batch_AAA123',
    });
    assert.equal(response.status, 200);
    const boundary = /boundary=(batchresponse_[0-9a-f-]{36})/.exec(response.headers['content-type'] ?? '')?.[1];
    assert.ok(boundary !== undefined);
    const text = response.text.replace(/\r\n/g, '\n');
    const layout = text
      .replace(new RegExp(boundary, 'g'), 'B')
      .replace(/changesetresponse_[0-9a-f-]{36}/g, 'C')
      .replace(/\((?:[0-9a-f-]{36})\)/g, '(ID)')
      .replace(new RegExp(sandbox.webApiUrl.replace(/[.$/]/g, '\\$&'), 'g'), 'URL/')
      .replace(/\n\{[\s\S]*\}\n/, '\nJSON\n');
    assert.equal(
      layout,
      [
        '--B',
        'Content-Type: multipart/mixed; boundary=C',
        '',
        '--C',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        'Content-ID: 1',
        '',
        'HTTP/1.1 204 No Content',
        'OData-Version: 4.0',
        'Location:URL/accounts(ID)',
        'OData-EntityId:URL/accounts(ID)',
        '',
        '--C',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        'Content-ID: 2',
        '',
        'HTTP/1.1 204 No Content',
        'OData-Version: 4.0',
        'Location:URL/contacts(ID)',
        'OData-EntityId:URL/contacts(ID)',
        '',
        '--C--',
        '--B',
        'Content-Type: application/http',
        'Content-Transfer-Encoding: binary',
        '',
        'HTTP/1.1 200 OK',
        'Content-Type: application/json; odata.metadata=minimal',
        'OData-Version: 4.0',
        '',
        'JSON',
        '--B--',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(/\n(\{[\s\S]*\})\n/.exec(text)?.[1] ?? '{}') as { value: Array<{ fullname: string }> };
    assert.deepEqual(
      json.value.map((c) => c.fullname),
      ['Child'],
    );
    const accountId = /accounts\(([0-9a-f-]{36})\)/.exec(text)?.[1];
    const contact = (await client.call('GET', `contacts?$select=_parentcustomerid_value`)).json().value as Array<
      Record<string, unknown>
    >;
    assert.equal(contact[0]?._parentcustomerid_value, accountId);
  });

  it('rolls back the whole change set when one part fails and answers with that one error', async () => {
    const before = (await client.call('GET', 'accounts/$count')).text;
    const body = batchBody('batch_X', 'changeset_Y', [
      `Content-ID: 1\r\n\r\nPOST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"name":"Rolled back"}`,
      `Content-ID: 2\r\n\r\nPOST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"name":"${'x'.repeat(200)}"}`,
    ]);
    const response = await client.call('POST', '$batch', body, { 'Content-Type': 'multipart/mixed;boundary=batch_X' });
    // Without continue-on-error the batch itself answers with the failure's status.
    assert.equal(response.status, 400);
    assert.match(response.headers['content-type'] ?? '', /^multipart\/mixed; boundary=batchresponse_/);
    assert.match(response.text, /Content-ID: 2\r\n\r\nHTTP\/1\.1 400 Bad Request/);
    assert.match(response.text, /"code":"0x80044331"/);
    assert.doesNotMatch(response.text, /changesetresponse_/);
    assert.equal((await client.call('GET', 'accounts/$count')).text, before);
    const rolled = await client.call('GET', "accounts?$filter=name eq 'Rolled back'");
    assert.deepEqual(rolled.json().value, []);
  });

  it('stops at the first failing part unless continue-on-error is preferred, then runs every part', async () => {
    const standalone = (boundary: string, names: string[]): string =>
      [
        ...names.flatMap((name) => [
          `--${boundary}`,
          'Content-Type: application/http',
          'Content-Transfer-Encoding:binary',
          '',
          `POST accounts HTTP/1.1`,
          'Content-Type: application/json',
          '',
          JSON.stringify({ name }),
        ]),
        `--${boundary}--`,
        '',
      ].join('\r\n');
    const names = (tag: string): string[] => [`${tag} first`, 'x'.repeat(200), `${tag} third`];
    const stopped = await client.call('POST', '$batch', standalone('batch_S', names('Stop')), {
      'Content-Type': 'multipart/mixed;boundary=batch_S',
    });
    assert.equal(stopped.status, 400);
    assert.equal(stopped.headers['preference-applied'], undefined);
    assert.deepEqual(
      [...stopped.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]),
      ['204', '400'],
    );
    assert.match(stopped.text, /"code":"0x80044331"/);
    const third = await client.call('GET', "accounts?$filter=name eq 'Stop third'");
    assert.deepEqual(third.json().value, [], 'nothing after the failure ran');

    const continued = await client.call('POST', '$batch', standalone('batch_C', names('Go')), {
      'Content-Type': 'multipart/mixed;boundary=batch_C',
      Prefer: 'odata.continue-on-error',
    });
    assert.equal(continued.status, 200);
    assert.equal(continued.headers['preference-applied'], 'odata.continue-on-error');
    assert.deepEqual(
      [...continued.text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]),
      ['204', '400', '204'],
    );
    const ran = await client.call('GET', "accounts?$filter=name eq 'Go third'");
    assert.equal((ran.json().value as unknown[]).length, 1);
  });

  it('rejects an unknown Content-ID reference', async () => {
    const body = batchBody('batch_Z', 'changeset_Z', [
      `Content-ID: 1\r\n\r\nPOST contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"lastname":"x","parentcustomerid_account@odata.bind":"$7"}`,
    ]);
    const response = await client.call('POST', '$batch', body, { 'Content-Type': 'multipart/mixed;boundary=batch_Z' });
    assert.match(response.text, /Content-ID Reference: '\$7' does not exist in the batch context\./);
  });
});

describe('service protection limits', () => {
  it('answers 429 with Retry-After and the Dataverse code once the window is used up', async () => {
    const { sandbox, client } = await startForTest('limits');
    try {
      sandbox.setLimits({ requestsPerWindow: 3, windowSeconds: 120, concurrent: 52 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await client.call('GET', 'accounts?$top=1')).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const throttled = await client.call('GET', 'accounts?$top=1');
      const retryAfter = Number(throttled.headers['retry-after']);
      assert.ok(retryAfter >= 1 && retryAfter <= 120);
      assert.deepEqual(throttled.json(), {
        error: {
          code: '0x80072322',
          message: 'Number of requests exceeded the limit of 3 over time window of 120 seconds.',
        },
      });
      const stats = sandbox.stats();
      assert.equal(stats.throttled, 3);
      assert.equal(stats.requests, 6);
      sandbox.setLimits({ requestsPerWindow: 100, windowSeconds: 120, concurrent: 0 });
      const concurrent = await client.call('GET', 'accounts?$top=1');
      assert.equal(concurrent.status, 429);
      assert.equal((concurrent.json().error as { code: string }).code, '0x80072326');
    } finally {
      await sandbox.close();
    }
  });
});

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

describe('webhooks and persistence', () => {
  let receiver: http.Server;
  let receiverUrl = '';
  const received: Received[] = [];
  let failNext = 0;

  before(async () => {
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push({
          url: request.url ?? '',
          headers: request.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        if (failNext > 0) {
          failNext -= 1;
          response.writeHead(503).end();
          return;
        }
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('delivers RemoteExecutionContext posts with each auth type, the tag, and retries a 503 once', async () => {
    const { sandbox, client } = await startForTest('webhooks', { webhookDeliveryDelayMs: 5 });
    try {
      sandbox.registerWebhook({
        url: `${receiverUrl}/key`,
        entity: 'salesorder',
        messages: ['Create', 'Update'],
        authType: 'WebhookKey',
        key: 'k1',
      });
      sandbox.registerWebhook({
        url: `${receiverUrl}/header`,
        entity: 'account',
        messages: ['Create'],
        authType: 'HttpHeader',
        key: 'k2',
        headerName: 'x-qbsync-key',
      });
      sandbox.registerWebhook({
        url: `${receiverUrl}/query`,
        entity: 'account',
        messages: ['Update'],
        authType: 'HttpQueryString',
        key: 'k3',
      });
      const account = (
        await client.call(
          'POST',
          'accounts?tag=qbsync',
          { name: 'Hooked', creditlimit: 10 },
          { Prefer: 'return=representation' },
        )
      ).json();
      await sandbox.webhooksIdle();
      const create = received.find((r) => r.url.startsWith('/header'));
      assert.ok(create !== undefined);
      assert.equal(create.headers['x-qbsync-key'], 'k2');
      assert.equal(create.headers['x-ms-dynamics-entity-name'], 'account');
      assert.equal(create.headers['x-ms-dynamics-request-name'], 'Create');
      assert.equal(create.headers['x-ms-dynamics-organization'], new URL(sandbox.environmentUrl).host);
      assert.ok(
        typeof create.headers['x-request-id'] === 'string' &&
          typeof create.headers['x-ms-correlation-request-id'] === 'string',
      );
      const body = create.body;
      assert.equal(body.MessageName, 'Create');
      assert.equal(body.PrimaryEntityName, 'account');
      assert.equal(body.PrimaryEntityId, account.accountid);
      assert.equal(body.Stage, 40);
      assert.deepEqual(body.SharedVariables, [
        { key: 'tag', value: 'qbsync' },
        { key: 'IsAutoTransact', value: true },
      ]);
      const target = (
        body.InputParameters as Array<{
          key: string;
          value: { Attributes: Array<{ key: string; value: unknown }>; LogicalName: string };
        }>
      )[0];
      assert.equal(target?.key, 'Target');
      const attributes = new Map(target?.value.Attributes.map((a) => [a.key, a.value]));
      assert.equal(attributes.get('name'), 'Hooked');
      assert.deepEqual(attributes.get('creditlimit'), {
        __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts',
        Value: 10,
      });
      assert.deepEqual(attributes.get('statecode'), {
        __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts',
        Value: 0,
      });
      assert.match(String(attributes.get('modifiedon')), /^\/Date\(\d+\)\/$/);
      assert.equal((body.PostEntityImages as Array<{ key: string }>)[0]?.key, 'AsynchronousStepPrimaryName');

      failNext = 1;
      await client.call('PATCH', `accounts(${String(account.accountid)})`, { telephone1: '1' });
      await sandbox.webhooksIdle();
      const query = received.filter((r) => r.url.startsWith('/query'));
      assert.equal(query.length, 2);
      assert.ok(query.every((r) => r.url === '/query?code=k3'));
      assert.deepEqual(query[1]?.body.SharedVariables, [{ key: 'IsAutoTransact', value: true }]);
      const delivery = sandbox.webhookDeliveries().find((d) => d.url.endsWith('/query'));
      assert.deepEqual([delivery?.status, delivery?.attempts], [202, 2]);

      await client.call('POST', 'salesorders', {
        name: 'Hooked order',
        'customerid_account@odata.bind': `/accounts(${String(account.accountid)})`,
      });
      await sandbox.webhooksIdle();
      const order = received.find((r) => r.url.startsWith('/key'));
      assert.equal(order?.url, '/key?code=k1');
      assert.equal(order?.headers['x-functions-key'], 'k1');
      const customer = (
        order?.body.InputParameters as Array<{ value: { Attributes: Array<{ key: string; value: unknown }> } }>
      )[0]?.value.Attributes.find((a) => a.key === 'customerid');
      assert.deepEqual(customer?.value, {
        __type: 'EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts',
        Id: account.accountid,
        KeyAttributes: [],
        LogicalName: 'account',
        Name: 'Hooked',
        RowVersion: null,
      });
    } finally {
      await sandbox.close();
    }
  });

  it('keeps rows, custom columns, keys and webhooks across a restart', async () => {
    const first = await startForTest('persist');
    await provisionKey(first.client, 'account', 'qbsync_QbListId', 'qbsync_key');
    await first.client.call('PATCH', "accounts(qbsync_qblistid='P-1')", { name: 'Persisted' });
    const hookId = first.sandbox.registerWebhook({
      url: `${receiverUrl}/p`,
      entity: 'account',
      messages: ['Update'],
      authType: 'WebhookKey',
      key: 'x',
    });
    await first.sandbox.close();
    const second = await startDataverseSandbox({ port: 0, dataDir: first.dataDir });
    try {
      const client = new WebApiClient(second, await tokenFor(second));
      const row = await client.call('GET', "accounts(qbsync_qblistid='P-1')?$select=name,qbsync_qblistid");
      assert.equal(row.status, 200);
      assert.equal(row.json().name, 'Persisted');
      assert.deepEqual(
        second.webhooks().map((h) => h.id),
        [hookId],
      );
      const again = await client.call('POST', "EntityDefinitions(LogicalName='account')/Attributes", {
        '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata',
        SchemaName: 'qbsync_QbListId',
        MaxLength: 100,
      });
      assert.equal(again.status, 400);
      assert.match((again.json().error as { message: string }).message, /already exists/);
    } finally {
      await second.close();
    }
  });
});
