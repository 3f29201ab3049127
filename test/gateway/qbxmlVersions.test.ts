import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  enqueueQbxmlSignal,
} from '../../src/workflows/companyFile/messages';
import { hostCompanyPreferencesResponse } from '../../src/sandbox/webConnector/hostCompanyPreferences';
import { startGatewayStack, type GatewayStack } from '../support/gateway';

const taskQueue = 'qbxml-versions-test';
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

function result(text: string, method: string): unknown {
  const doc = parser.parse(text) as { Envelope: { Body: Record<string, Record<string, unknown>> } };
  return doc.Envelope.Body[`${method}Response`]?.[`${method}Result`];
}

describe('qbXML version the gateway writes (real Temporal, hand-written envelopes)', () => {
  let stack: GatewayStack;

  before(async () => {
    stack = await startGatewayStack(taskQueue);
  });
  after(async () => {
    await stack.close();
  });

  const authenticate = async (): Promise<string> => {
    const auth = await stack.call('authenticate', { strUserName: 'qb-east', strPassword: 'east-pass' });
    const [ticket, slot] = (result(auth.text, 'authenticate') as { string: string[] }).string;
    assert.equal(slot ?? '', '', 'a session opens for the queued read');
    return ticket!;
  };
  const send = async (ticket: string, newest: string, hcp: boolean): Promise<string> => {
    const [major, minor] = newest.split('.');
    const res = await stack.call('sendRequestXML', {
      ticket,
      strHCPResponse: hcp ? hostCompanyPreferencesResponse('C:\\Company\\east.qbw', newest) : '',
      strCompanyFileName: 'C:\\Company\\east.qbw',
      qbXMLCountry: 'US',
      qbXMLMajorVers: Number(major),
      qbXMLMinorVers: Number(minor),
    });
    return String(result(res.text, 'sendRequestXML') ?? '');
  };

  it('refuses a QuickBooks older than 12.0 in the Web Connector’s terms, keeping the queue, then serves a newer one', async () => {
    const file = stack.env.client.workflow.getHandle(companyFileWorkflowId('east'));
    await stack.env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('east'),
      taskQueue,
      args: [{ connection: 'east' }],
      signal: enqueueQbxmlSignal,
      signalArgs: [
        {
          requester: 'versions-requester',
          batchId: 'versions-read',
          requests: [{ type: 'CustomerQuery', requestId: 'versions-1', maxReturned: 10 }],
        },
      ],
    });

    // QuickBooks 2012 (qbXML 11.0): nothing goes out, and QBWC's getLastError shows the operator why.
    const old = await authenticate();
    assert.equal(await send(old, '11.0', true), '');
    assert.equal(await send(old, '11.0', false), '', 'later calls of the run, without the host answer, too');
    const lastError = String(result((await stack.call('getLastError', { ticket: old })).text, 'getLastError') ?? '');
    assert.match(lastError, /qbXML 11\.0/);
    assert.match(lastError, /qbXML 12\.0 or newer/);
    assert.equal((await file.query(companyFileStatusQuery)).queued, 1, 'the read waits in the queue, intact');
    await stack.call('closeConnection', { ticket: old });

    // QuickBooks 2021+ (qbXML 16.0): the read goes out in 16.0.
    const current = await authenticate();
    const qbxml = await send(current, '16.0', true);
    assert.match(qbxml, /<\?qbxml version="16.0"\?>/);
    assert.match(qbxml, /requestID="versions-1"/);
  });
});
