import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { demoAccountId, DEMO_UNIT_ID, demoProductId } from '../../../src/sandbox/dataverse/demoOrganisation';
import { type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { startForTest, type WebApiClient } from './sandboxClient';

/** Opportunities, their products and the WinOpportunity action in the Dataverse sandbox. */
describe('Dataverse sandbox opportunities', () => {
  let sandbox: DataverseSandbox;
  let client: WebApiClient;
  let receiver: http.Server;
  const received: Array<Record<string, unknown>> = [];

  before(async () => {
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ({ sandbox, client } = await startForTest('opportunities', { seed: true, webhookDeliveryDelayMs: 5 }));
    sandbox.registerWebhook({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      entity: 'opportunity',
      messages: ['Win'],
      authType: 'WebhookKey',
      key: 'k',
    });
  });
  after(async () => {
    await sandbox.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const newOpportunity = async (name: string): Promise<string> => {
    const created = await client.call(
      'POST',
      'opportunities',
      { name, 'parentaccountid@odata.bind': `/accounts(${demoAccountId('Contoso Pharmaceuticals')})` },
      { Prefer: 'return=representation' },
    );
    assert.equal(created.status, 201, created.text);
    const id = String(created.json().opportunityid);
    const line = await client.call('POST', 'opportunityproducts', {
      'opportunityid@odata.bind': `/opportunities(${id})`,
      'productid@odata.bind': `/products(${demoProductId('HW-1003')})`,
      'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
      quantity: 4,
      priceperunit: 25.5,
      ispriceoverridden: true,
    });
    assert.equal(line.status, 204, line.text);
    return id;
  };
  const win = (id: string, status = 3) =>
    client.call('POST', 'WinOpportunity', {
      Status: status,
      OpportunityClose: { subject: 'Won', 'opportunityid@odata.bind': `/opportunities(${id})` },
    });

  it('totals an opportunity from its products, and wins it: state Won, a completed OpportunityClose, a Win webhook', async () => {
    const id = await newOpportunity('Fit-out');
    const open = (await client.call('GET', `opportunities(${id})`)).json();
    assert.equal(open.statecode, 0);
    assert.equal(open.totalamount, 102);

    const answer = await win(id);
    assert.equal(answer.status, 204, answer.text);
    const won = (await client.call('GET', `opportunities(${id})`)).json();
    assert.equal(won.statecode, 1);
    assert.equal(won.statuscode, 3);
    assert.equal(won.actualvalue, 102);
    assert.match(String(won.actualclosedate), /^\d{4}-/);
    const closes = (await client.call('GET', `opportunitycloses?$filter=_opportunityid_value eq ${id}`)).json()
      .value as Array<Record<string, unknown>>;
    assert.equal(closes.length, 1);
    assert.equal(closes[0]!.statecode, 1, 'the close activity is Completed');

    await sandbox.webhooksIdle();
    const delivery = received.find((r) => r.PrimaryEntityId === id);
    assert.ok(delivery, 'the Win step was delivered');
    assert.equal(delivery.MessageName, 'Win');
    assert.equal(delivery.PrimaryEntityName, 'opportunity');
    const inputs = (delivery.InputParameters as Array<{ key: string }>).map((p) => p.key);
    assert.deepEqual(inputs, ['OpportunityClose', 'Status']);
  });

  it('refuses what Dataverse refuses: a second win, a status of another state, an unknown opportunity, missing parameters, a close by update', async () => {
    const id = await newOpportunity('Refusals');
    const wrongStatus = await win(id, 4);
    assert.equal(wrongStatus.status, 400);
    assert.match(wrongStatus.text, /not a valid status code for state code OpportunityState\.Won/);
    const byUpdate = await client.call('PATCH', `opportunities(${id})`, { statecode: 1, statuscode: 3 });
    assert.equal(byUpdate.status, 400);
    assert.match(byUpdate.text, /WinOpportunity/);
    const missing = await client.call('POST', 'WinOpportunity', { Status: 3 });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /OpportunityClose/);
    const unknown = await win('00000000-0000-0000-0000-0000000000aa');
    assert.equal(unknown.status, 404);
    assert.equal((await client.call('GET', `opportunities(${id})`)).json().statecode, 0, 'nothing was closed');

    assert.equal((await win(id)).status, 204);
    const again = await win(id);
    assert.equal(again.status, 400);
    assert.match(again.text, /already closed/);
    assert.equal(
      ((await client.call('GET', `opportunitycloses?$filter=_opportunityid_value eq ${id}`)).json().value as unknown[])
        .length,
      1,
      'a refused win records no second close',
    );
  });

  it('keeps a won opportunity and its products read-only, except the connector columns', async () => {
    const id = await newOpportunity('Frozen');
    assert.equal((await win(id)).status, 204);
    const edit = await client.call('PATCH', `opportunities(${id})`, { name: 'Renamed' });
    assert.equal(edit.status, 400);
    assert.match(edit.text, /closed/);
    const line = await client.call('POST', 'opportunityproducts', {
      'opportunityid@odata.bind': `/opportunities(${id})`,
      isproductoverridden: true,
      productdescription: 'Extra',
      quantity: 1,
      priceperunit: 1,
    });
    assert.equal(line.status, 400);
  });
});
