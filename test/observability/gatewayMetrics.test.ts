import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { quickbooksListRead } from '../../src/workflows/quickbooksListRead';
import { companyFileStatusQuery, companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { postSoap, qbwcEnvelope, startGatewayStack, type GatewayStack, type TestGateway } from '../support/gateway';

const taskQueue = 'gateway-metrics-test';

/** Value of one series in Prometheus text format (labels in any order), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (present.length === wanted.length && wanted.every((w) => present.includes(w))) return Number(match[3]);
  }
  return 0;
}

function slots(text: string): string[] {
  return [...text.matchAll(/<(?:\w+:)?string(?:\s[^>]*)?(?:\/>|>([^<]*)<\/(?:\w+:)?string>)/g)].map((m) => m[1] ?? '');
}

describe('gateway /metrics counts QBWC sessions and round trips', () => {
  let stack: GatewayStack;
  let env: TestWorkflowEnvironment;
  let gw: TestGateway;

  before(async () => {
    stack = await startGatewayStack(taskQueue);
    env = stack.env;
    gw = stack.gateway;
  });
  after(async () => {
    await stack.close();
  });

  const call = (method: string, params: Record<string, string | number>) =>
    postSoap(gw.qbwcUrl, method, qbwcEnvelope(method, params));
  const metrics = async (): Promise<string> => {
    const res = await fetch(`${gw.url}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  it('after a session: one ok and one refused authenticate for east, none for west, one round trip for east', async () => {
    const before = await metrics();
    const handle = await env.client.workflow.start(quickbooksListRead, {
      workflowId: 'metrics-read-east',
      taskQueue,
      args: [{ connection: 'east', list: 'Customer', pageSize: 50 }],
    });
    const fileHandle = env.client.workflow.getHandle(companyFileWorkflowId('east'));
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fileHandle.query(companyFileStatusQuery)).queued > 0) break;
      } catch {
        /* not started yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    assert.deepEqual(slots((await call('authenticate', { strUserName: 'qb-east', strPassword: 'nope' })).text), [
      '',
      'nvu',
    ]);
    assert.equal(
      slots((await call('authenticate', { strUserName: 'qb-west', strPassword: 'west-pass' })).text)[1],
      'none',
    );
    const [ticket = ''] = slots(
      (await call('authenticate', { strUserName: 'qb-east', strPassword: 'east-pass' })).text,
    );
    const send = await call('sendRequestXML', {
      ticket,
      strHCPResponse: '',
      strCompanyFileName: '',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    });
    const requestId = /requestID=(?:"|&quot;)([^"&]+)/.exec(send.text)?.[1];
    assert.ok(requestId, 'a request went out');
    const response =
      '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>' +
      `<CustomerQueryRs requestID="${requestId}" statusCode="1" statusSeverity="Info" statusMessage="A query request did not find a matching object in QuickBooks" iteratorRemainingCount="0" iteratorID="{abc}" />` +
      '</QBXMLMsgsRs></QBXML>';
    await call('receiveResponseXML', { ticket, response, hresult: '', message: '' });
    // A forged ticket is no round trip of any connection.
    await call('receiveResponseXML', { ticket: `east~${'A'.repeat(32)}`, response: '', hresult: '', message: '' });
    await call('closeConnection', { ticket });
    await handle.result();

    const after = await metrics();
    const delta = (name: string, labels: Record<string, string>): number =>
      sample(after, name, labels) - sample(before, name, labels);
    assert.equal(delta('qbsync_qbwc_sessions_total', { connection: 'east', result: 'ok' }), 1);
    assert.equal(delta('qbsync_qbwc_sessions_total', { connection: 'east', result: 'nvu' }), 1);
    assert.equal(delta('qbsync_qbwc_sessions_total', { connection: 'west', result: 'none' }), 1);
    assert.equal(delta('qbsync_qbwc_round_trips_total', { connection: 'east' }), 1);
    assert.equal(delta('qbsync_qbwc_round_trips_total', { connection: 'west' }), 0);
  });

  it('counts an unknown user name under connection "unknown", never under the name it was given', async () => {
    const before = await metrics();
    await call('authenticate', { strUserName: 'mallory-made-this-up', strPassword: 'x' });
    const after = await metrics();
    const labels = { connection: 'unknown', result: 'nvu' };
    assert.equal(
      sample(after, 'qbsync_qbwc_sessions_total', labels) - sample(before, 'qbsync_qbwc_sessions_total', labels),
      1,
    );
    assert.doesNotMatch(after, /mallory/);
  });
});
