import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { XMLParser } from 'fast-xml-parser';
import { quickbooksListRead } from '../../src/workflows/quickbooksListRead';
import { companyFile } from '../../src/workflows/companyFile/workflow';
import {
  companyFileStatusQuery,
  companyFileWorkflowId,
  enqueueQbxmlSignal,
} from '../../src/workflows/companyFile/messages';
import { postSoap, qbwcEnvelope, startGatewayStack, type GatewayStack, type TestGateway } from '../support/gateway';

const taskQueue = 'qbwc-endpoint-test';
const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

function result(text: string, method: string): unknown {
  const doc = parser.parse(text) as { Envelope: { Body: Record<string, Record<string, unknown>> } };
  return doc.Envelope.Body[`${method}Response`]?.[`${method}Result`];
}

async function call(gw: TestGateway, method: string, params: Record<string, string | number>) {
  return postSoap(gw.qbwcUrl, method, qbwcEnvelope(method, params));
}

describe('QBWC SOAP endpoint (real Temporal, hand-written envelopes)', () => {
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

  it('serves the WSDL with the Intuit namespace and the eight callbacks', async () => {
    const wsdl = await (await fetch(`${gw.qbwcUrl}?wsdl`)).text();
    assert.match(wsdl, /targetNamespace="http:\/\/developer\.intuit\.com\/"/);
    for (const op of [
      'serverVersion',
      'clientVersion',
      'authenticate',
      'sendRequestXML',
      'receiveResponseXML',
      'connectionError',
      'getLastError',
      'closeConnection',
    ]) {
      assert.match(wsdl, new RegExp(`soapAction="http://developer.intuit.com/${op}"`));
    }
  });

  it('answers serverVersion with no children and clientVersion with an empty string', async () => {
    const sv = await postSoap(
      gw.qbwcUrl,
      'serverVersion',
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><serverVersion xmlns="http://developer.intuit.com/" /></soap:Body></soap:Envelope>',
    );
    assert.equal(sv.status, 200);
    assert.ok(String(result(sv.text, 'serverVersion')).length > 0);
    const cv = await call(gw, 'clientVersion', { strVersion: '2.3.0.215' });
    assert.equal(cv.status, 200);
    assert.match(cv.text, /clientVersionResult/);
  });

  it('answers nvu with both array slots present for a wrong password or an unknown user', async () => {
    for (const [user, password] of [
      ['qb-east', 'wrong'],
      ['nobody', 'east-pass'],
    ]) {
      const res = await call(gw, 'authenticate', { strUserName: user!, strPassword: password! });
      assert.equal(res.status, 200);
      const strings = [...res.text.matchAll(/<(?:\w+:)?string(?:\s[^>]*)?(?:\/>|>([^<]*)<\/(?:\w+:)?string>)/g)].map(
        (m) => m[1] ?? '',
      );
      assert.deepEqual(strings, ['', 'nvu']);
      assert.doesNotMatch(res.text, /east-pass|wrong/);
    }
  });

  it('answers none when nothing is queued', async () => {
    const res = await call(gw, 'authenticate', { strUserName: 'qb-west', strPassword: 'west-pass' });
    const slots = (result(res.text, 'authenticate') as { string: string[] }).string;
    assert.match(slots[0]!, /^west~/);
    assert.equal(slots[1], 'none');
  });

  it('runs a session: queued query out as escaped qbXML, response routed to the waiting workflow', async () => {
    const handle = await env.client.workflow.start(quickbooksListRead, {
      workflowId: 'read-east-customers',
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
    const auth = await call(gw, 'authenticate', { strUserName: 'qb-east', strPassword: 'east-pass' });
    const [ticket, slot] = (result(auth.text, 'authenticate') as { string: string[] }).string as [string, string];
    assert.equal(slot ?? '', '');

    // An unknown ticket gets an error answer and dequeues nothing.
    const forged = `east~${'A'.repeat(32)}`;
    const bad = await call(gw, 'sendRequestXML', {
      ticket: forged,
      strHCPResponse: '',
      strCompanyFileName: '',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    });
    assert.equal(result(bad.text, 'sendRequestXML') ?? '', '');
    assert.equal((await fileHandle.query(companyFileStatusQuery)).queued, 1);
    const badReceive = await call(gw, 'receiveResponseXML', { ticket: forged, response: '', hresult: '', message: '' });
    assert.equal(Number(result(badReceive.text, 'receiveResponseXML')), -1);

    // Malformed, entity-bearing and oversized bodies get SOAP faults and leave the queue alone.
    for (const body of [
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><sendRequestXML>',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><getLastError xmlns="http://developer.intuit.com/"><ticket>&a;</ticket></getLastError></soap:Body></soap:Envelope>',
      qbwcEnvelope('receiveResponseXML', { ticket, response: 'x'.repeat(11 * 1024 * 1024), hresult: '', message: '' }),
    ]) {
      const res = await postSoap(gw.qbwcUrl, 'sendRequestXML', body);
      assert.ok(res.status >= 400, `status ${res.status}`);
      assert.match(res.text, /<soap:Fault>.*<faultcode>soap:Client<\/faultcode>/s);
    }
    assert.equal((await fileHandle.query(companyFileStatusQuery)).queued, 1);

    const send = await call(gw, 'sendRequestXML', {
      ticket,
      strHCPResponse: '',
      strCompanyFileName: 'C:\\Company\\east.qbw',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    });
    assert.match(send.text, /&lt;CustomerQueryRq requestID=&quot;|&lt;CustomerQueryRq requestID="/);
    const qbxml = String(result(send.text, 'sendRequestXML'));
    const requestId = /requestID="([^"]+)"/.exec(qbxml)![1]!;
    assert.match(qbxml, /<\?qbxml version="13.0"\?>/);
    assert.match(qbxml, /onError="continueOnError"/);

    const response =
      '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>' +
      `<CustomerQueryRs requestID="${requestId}" statusCode="0" statusSeverity="Info" statusMessage="Status OK" iteratorRemainingCount="0" iteratorID="{abc}">` +
      '<CustomerRet><ListID>80000001-1446676743</ListID><TimeCreated>2015-11-04T14:39:03-08:00</TimeCreated><TimeModified>2015-11-04T14:39:03-08:00</TimeModified>' +
      '<EditSequence>1446676743</EditSequence><Name>Smith &amp; Sons</Name><FullName>Smith &amp; Sons</FullName><IsActive>true</IsActive><Sublevel>0</Sublevel>' +
      '<Balance>0.00</Balance><TotalBalance>0.00</TotalBalance><JobStatus>None</JobStatus></CustomerRet>' +
      '</CustomerQueryRs></QBXMLMsgsRs></QBXML>';
    const recv = await call(gw, 'receiveResponseXML', { ticket, response, hresult: '', message: '' });
    assert.equal(Number(result(recv.text, 'receiveResponseXML')), 100);
    const close = await call(gw, 'closeConnection', { ticket });
    assert.equal(result(close.text, 'closeConnection'), 'OK');

    const read = await handle.result();
    assert.equal(read.records.length, 1);
    assert.equal((read.records[0] as { name?: string }).name, 'Smith & Sons');
  });

  it('answers a genuine ticket of a session that has ended as QBWC expects, never with a SOAP Fault', async () => {
    const sendParams = (ticket: string) => ({
      ticket,
      strHCPResponse: '',
      strCompanyFileName: 'C:\\Company\\east.qbw',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    });
    const authenticate = async (): Promise<[string, string]> => {
      const auth = await call(gw, 'authenticate', { strUserName: 'qb-east', strPassword: 'east-pass' });
      return (result(auth.text, 'authenticate') as { string: string[] }).string.map((s) => s ?? '') as [string, string];
    };
    // A read whose requester expects to send more: the session lingers through NoOp pauses after the answer.
    await env.client.workflow.signalWithStart(companyFile, {
      workflowId: companyFileWorkflowId('east'),
      taskQueue,
      args: [{ connection: 'east' }],
      signal: enqueueQbxmlSignal,
      signalArgs: [
        {
          requester: 'stale-ticket-requester',
          batchId: 'stale-ticket-read',
          requests: [{ type: 'CustomerQuery', requestId: 'stale-1', maxReturned: 10, iterator: 'Start' }],
          followUp: true,
        },
      ],
    });
    const [first, slot] = await authenticate();
    assert.equal(slot, '', 'a session opens for the queued read');
    const send = await call(gw, 'sendRequestXML', sendParams(first));
    assert.match(String(result(send.text, 'sendRequestXML')), /requestID="stale-1"/);
    const answer =
      '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="stale-1" statusCode="1" ' +
      'statusSeverity="Info" statusMessage="A query request did not find a matching object in QuickBooks" ' +
      'iteratorRemainingCount="0" iteratorID="{x}" /></QBXMLMsgsRs></QBXML>';
    const received = await call(gw, 'receiveResponseXML', {
      ticket: first,
      response: answer,
      hresult: '',
      message: '',
    });
    assert.equal(Number(result(received.text, 'receiveResponseXML')), 99, 'the session waits for a follow-up');
    assert.equal(result((await call(gw, 'sendRequestXML', sendParams(first))).text, 'sendRequestXML'), 'NoOp');
    assert.equal(result((await call(gw, 'getLastError', { ticket: first })).text, 'getLastError'), 'NoOp');

    // Another run of the Web Connector takes over the company file: the first ticket is genuine but stale now.
    const [second, secondSlot] = await authenticate();
    assert.equal(secondSlot, 'none', 'nothing is queued, so the new run ends the lingering session');
    assert.notEqual(second, first);

    const answers = {
      sendRequestXML: await call(gw, 'sendRequestXML', sendParams(first)),
      getLastError: await call(gw, 'getLastError', { ticket: first }),
      receiveResponseXML: await call(gw, 'receiveResponseXML', {
        ticket: first,
        response: answer,
        hresult: '',
        message: '',
      }),
      connectionError: await call(gw, 'connectionError', { ticket: first, hresult: '0x80040408', message: 'x' }),
      closeConnection: await call(gw, 'closeConnection', { ticket: first }),
    };
    for (const [method, res] of Object.entries(answers)) {
      assert.equal(res.status, 200, `${method}: ${res.text}`);
      assert.doesNotMatch(res.text, /Fault/, method);
    }
    assert.equal(result(answers.sendRequestXML.text, 'sendRequestXML') ?? '', '');
    assert.equal(Number(result(answers.receiveResponseXML.text, 'receiveResponseXML')), -1);
    assert.equal(result(answers.connectionError.text, 'connectionError'), 'done');
    // Shown to the user, then QBWC closes the connection; a NoOp here would make QBWC pause and ask again for ever.
    const lastError = String(result(answers.getLastError.text, 'getLastError'));
    assert.match(lastError, /run has ended/);
    assert.match(String(result(answers.closeConnection.text, 'closeConnection')), /No QuickBooks session was open/);

    // A ticket of a company file whose workflow is no longer running gets the same answers.
    await env.client.workflow.getHandle(companyFileWorkflowId('east')).terminate('stale-ticket test');
    const afterEnd = await call(gw, 'sendRequestXML', sendParams(first));
    assert.equal(afterEnd.status, 200, afterEnd.text);
    assert.equal(result(afterEnd.text, 'sendRequestXML') ?? '', '');
    const receiveAfterEnd = await call(gw, 'receiveResponseXML', {
      ticket: first,
      response: answer,
      hresult: '',
      message: '',
    });
    assert.equal(Number(result(receiveAfterEnd.text, 'receiveResponseXML')), -1, receiveAfterEnd.text);
  });
});
