import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import { XMLParser } from 'fast-xml-parser';
import { type QwcFile } from '../../../src/gateway/qbwc/qwcFile';
import {
  QuickBooksProcessingError,
  type CompanyFileProcessor,
} from '../../../src/sandbox/webConnector/companyFileProcessor';
import { WebConnectorSimulator, type WebConnectorEvent } from '../../../src/sandbox/webConnector/webConnectorSimulator';

const NS = 'http://developer.intuit.com/';

/** One request as the SOAP server saw it. */
interface Seen {
  method: string;
  soapAction: string | undefined;
  contentType: string | undefined;
  raw: string;
  params: Record<string, string>;
}

type Reply = { status?: number; body: string };
type Script = (seen: Seen, history: Seen[]) => Reply;

// Replies use a prefix on purpose: the simulator must not care which one the server picks.
function envelope(inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="${NS}"><SOAP-ENV:Body>${inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}
function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
function stringReply(method: string, value: string): Reply {
  return {
    body: envelope(
      `<ns1:${method}Response><ns1:${method}Result>${escapeText(value)}</ns1:${method}Result></ns1:${method}Response>`,
    ),
  };
}
function authReply(slots: string[]): Reply {
  const strings = slots
    .map((s) => (s === '' ? '<ns1:string></ns1:string>' : `<ns1:string>${escapeText(s)}</ns1:string>`))
    .join('');
  return {
    body: envelope(
      `<ns1:authenticateResponse><ns1:authenticateResult>${strings}</ns1:authenticateResult></ns1:authenticateResponse>`,
    ),
  };
}
function faultReply(faultstring: string): Reply {
  return {
    status: 500,
    body: envelope(
      `<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>${escapeText(faultstring)}</faultstring></SOAP-ENV:Fault>`,
    ),
  };
}

const paramParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
});

function parseSeen(raw: string, headers: Record<string, string | string[] | undefined>): Seen {
  const doc: unknown = paramParser.parse(raw);
  const body = Reflect.get(Reflect.get(doc as object, 'Envelope') as object, 'Body') as Record<string, unknown>;
  const method = Object.keys(body)[0] ?? '';
  const params: Record<string, string> = {};
  const inner = body[method];
  if (typeof inner === 'object' && inner !== null) {
    for (const [k, v] of Object.entries(inner)) params[k] = typeof v === 'string' ? v : String(v);
  }
  const action = headers.soapaction;
  const contentType = headers['content-type'];
  return {
    method,
    soapAction: typeof action === 'string' ? action : undefined,
    contentType: typeof contentType === 'string' ? contentType : undefined,
    raw,
    params,
  };
}

/** Default answers for the calls every run makes; tests override what they care about. */
function baseScript(overrides: Partial<Record<string, (seen: Seen, history: Seen[]) => Reply>>): Script {
  return (seen, history) => {
    const override = overrides[seen.method];
    if (override) return override(seen, history);
    switch (seen.method) {
      case 'serverVersion':
        return stringReply('serverVersion', '1.0.0');
      case 'clientVersion':
        return stringReply('clientVersion', '');
      case 'authenticate':
        return authReply(['TICKET-1', '', '', '']);
      case 'getLastError':
        return stringReply('getLastError', '');
      case 'closeConnection':
        return stringReply('closeConnection', 'OK');
      case 'connectionError':
        return stringReply('connectionError', 'done');
      default:
        return { status: 500, body: 'unscripted' };
    }
  };
}

/** Hands out the listed answers in order, one per call of that method. */
function sequence(method: string, answers: string[]): (seen: Seen, history: Seen[]) => Reply {
  return (_seen, history) => {
    const n = history.filter((h) => h.method === method).length - 1;
    return stringReply(method, answers[Math.min(n, answers.length - 1)] ?? '');
  };
}

const qbxml = (rqs: string): string =>
  `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">${rqs}</QBXMLMsgsRq></QBXML>`;
const REQUEST_1 = qbxml(
  '<CustomerAddRq requestID="1"><CustomerAdd><Name>Tom &amp; Jerry\'s "Shop"</Name></CustomerAdd></CustomerAddRq><CustomerQueryRq requestID="2"><FullName>A&lt;B</FullName></CustomerQueryRq>',
);
const REQUEST_2 = qbxml('<ItemInventoryQueryRq requestID="3"><MaxReturned>10</MaxReturned></ItemInventoryQueryRq>');
const responseFor = (request: string): string =>
  `<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><EchoRs statusCode="0" length="${request.length}">&amp;ok</EchoRs></QBXMLMsgsRs></QBXML>`;

describe('WebConnectorSimulator', () => {
  let server: Server;
  let appUrl = '';
  let script: Script = baseScript({});
  let history: Seen[] = [];
  let processed: string[] = [];

  const processor: CompanyFileProcessor = async (request) => {
    processed.push(request);
    if (request.includes('<Broken'))
      throw new QuickBooksProcessingError(
        '0x80040400',
        'QuickBooks found an error when parsing the provided XML text stream.',
      );
    return responseFor(request);
  };

  const qwc = (): QwcFile => ({
    appName: 'Test',
    appUrl,
    appDescription: '',
    appSupport: `${appUrl}?support=1`,
    userName: 'acme',
    ownerId: '{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}',
    fileId: '{57F3B9B6-86F1-4fcc-B1FF-967DE1813D20}',
    qbType: 'QBFS',
    runEveryNSeconds: 1,
    isReadOnly: false,
  });
  const events: WebConnectorEvent[] = [];
  const simulator = (qbxmlVersion?: string): WebConnectorSimulator =>
    new WebConnectorSimulator({
      qwc: qwc(),
      password: 'p&ss<word>',
      companyFilePath: 'C:\\QuickBooks\\Acme & Co.qbw',
      processor,
      noOpWaitMs: 5,
      timeoutMs: 10_000,
      log: (e) => events.push(e),
      ...(qbxmlVersion === undefined ? {} : { qbxmlVersion }),
    });

  before(async () => {
    const app = express();
    app.use(express.text({ type: () => true, limit: '10mb' }));
    app.post('/qbwc', (req, res) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const seen = parseSeen(raw, req.headers);
      history.push(seen);
      const reply = script(seen, history);
      res
        .status(reply.status ?? 200)
        .type('text/xml; charset=utf-8')
        .send(reply.body);
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/qbwc`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    history = [];
    processed = [];
    events.length = 0;
    script = baseScript({});
  });

  it('runs a multi-round-trip session with the exact QBWC wire shape', async () => {
    script = baseScript({
      sendRequestXML: sequence('sendRequestXML', [REQUEST_1, REQUEST_2]),
      receiveResponseXML: sequence('receiveResponseXML', ['50', '100']),
    });
    const report = await simulator().runSession();
    assert.deepEqual(report, {
      outcome: 'completed',
      roundTrips: 2,
      requestsSent: 3,
      calls: [
        'serverVersion',
        'clientVersion',
        'authenticate',
        'sendRequestXML',
        'receiveResponseXML',
        'sendRequestXML',
        'receiveResponseXML',
        'closeConnection',
      ],
      ticket: 'TICKET-1',
    });
    assert.deepEqual(
      history.map((h) => h.method),
      report.calls,
    );

    for (const h of history) {
      assert.equal(h.soapAction, `"${NS}${h.method}"`);
      assert.equal(h.contentType, 'text/xml; charset=utf-8');
      assert.match(
        h.raw,
        new RegExp(`<soap:Body><${h.method} xmlns="${NS}"`),
        `${h.method} must be unprefixed in the default namespace`,
      );
      assert.doesNotMatch(h.raw, /<\w+:(ticket|strUserName|response|hresult|strVersion)\b/, 'children are unprefixed');
    }
    const [serverVersion, clientVersion, authenticate, send1, receive1, send2, receive2, close] = history;
    assert.match(serverVersion?.raw ?? '', new RegExp(`<serverVersion xmlns="${NS}" /></soap:Body>`));
    assert.match(clientVersion?.raw ?? '', /<strVersion>2\.3\.0\.215<\/strVersion>/);
    assert.match(
      authenticate?.raw ?? '',
      /<strUserName>acme<\/strUserName><strPassword>p&amp;ss&lt;word&gt;<\/strPassword>/,
    );
    assert.deepEqual(authenticate?.params, { strUserName: 'acme', strPassword: 'p&ss<word>' });
    for (const h of history.slice(3)) assert.equal(h.params.ticket, 'TICKET-1');
    assert.ok(
      !history.some((h) => h !== authenticate && h.raw.includes('ss&lt;word')),
      'password only in authenticate',
    );

    // first sendRequestXML carries the HCP response as escaped text, later ones an empty element
    assert.match(send1?.raw ?? '', /<strHCPResponse>&lt;\?xml version="1\.0" \?&gt;&lt;QBXML&gt;/);
    assert.match(
      send1?.params.strHCPResponse ?? '',
      /<HostQueryRs [^>]*>.*<CompanyQueryRs .*<CompanyName>Acme &amp; Co<\/CompanyName>.*<PreferencesQueryRs /,
    );
    assert.match(send2?.raw ?? '', /<strHCPResponse \/>/);
    assert.match(
      send1?.raw ?? '',
      /<ticket>TICKET-1<\/ticket><strHCPResponse>.*<\/strHCPResponse><strCompanyFileName>C:\\QuickBooks\\Acme &amp; Co\.qbw<\/strCompanyFileName><qbXMLCountry>US<\/qbXMLCountry><qbXMLMajorVers>16<\/qbXMLMajorVers><qbXMLMinorVers>0<\/qbXMLMinorVers>/,
    );

    // the processor sees the qbXML exactly as the server sent it; the response goes back as escaped text
    assert.deepEqual(processed, [REQUEST_1, REQUEST_2]);
    assert.match(
      receive1?.raw ?? '',
      /<response>&lt;\?xml version="1\.0" \?&gt;&lt;QBXML&gt;.*&amp;amp;ok.*<\/response><hresult \/><message \/>/,
    );
    assert.equal(receive1?.params.response, responseFor(REQUEST_1));
    assert.equal(receive2?.params.response, responseFor(REQUEST_2));
    assert.deepEqual([receive1?.params.hresult, receive1?.params.message], ['', '']);
    assert.equal(close?.params.ticket, 'TICKET-1');
    const finished = events.find((e) => e.type === 'runFinished');
    assert.equal(finished?.type === 'runFinished' ? finished.report.outcome : undefined, 'completed');
  });

  it('reports the qbXML version of the QuickBooks it drives, in the call and in the HostQuery answer alike', async () => {
    script = baseScript({
      sendRequestXML: sequence('sendRequestXML', [REQUEST_1]),
      receiveResponseXML: sequence('receiveResponseXML', ['100']),
    });
    await simulator('12.0').runSession();
    const send = history.find((h) => h.method === 'sendRequestXML');
    assert.equal(send?.params.qbXMLMajorVers, '12');
    assert.equal(send?.params.qbXMLMinorVers, '0');
    const listed = [...(send?.params.strHCPResponse ?? '').matchAll(/<SupportedQBXMLVersion>([^<]*)</g)].map(
      (m) => m[1],
    );
    assert.equal(listed.at(-1), '12.0');
    assert.ok(!listed.includes('13.0'));
    history = [];
    await simulator().runSession();
    const sendDefault = history.find((h) => h.method === 'sendRequestXML');
    assert.equal(sendDefault?.params.qbXMLMajorVers, '16');
    assert.match(sendDefault?.params.strHCPResponse ?? '', /<SupportedQBXMLVersion>16\.0<\/SupportedQBXMLVersion>/);
  });

  const authenticated = ['serverVersion', 'clientVersion', 'authenticate'];
  const closed = [...authenticated, 'closeConnection'];
  const authCases: { name: string; slots: string[]; outcome: string; lastError: RegExp; calls: string[] }[] = [
    { name: 'nvu', slots: ['', 'nvu'], outcome: 'invalidUser', lastError: /invalid user/, calls: closed },
    { name: 'none', slots: ['T', 'none'], outcome: 'noWork', lastError: /No data exchange required/, calls: closed },
    {
      name: 'NONE (quickbooks-js spelling)',
      slots: ['T', 'NONE', '', ''],
      outcome: 'noWork',
      lastError: /No data exchange required/,
      calls: closed,
    },
    { name: 'busy', slots: ['T', 'busy', '30'], outcome: 'busy', lastError: /busy/, calls: authenticated },
    { name: 'no ticket', slots: ['', ''], outcome: 'error', lastError: /no ticket/, calls: authenticated },
  ];
  for (const c of authCases) {
    it(`authenticate ${c.name} ends the run (closing the connection after nvu and none, as QBWC does)`, async () => {
      script = baseScript({ authenticate: () => authReply(c.slots) });
      const report = await simulator().runSession();
      assert.equal(report.outcome, c.outcome);
      assert.match(report.lastError ?? '', c.lastError);
      assert.deepEqual(report.calls, c.calls);
      assert.equal(report.roundTrips, 0);
      if (c.calls.includes('closeConnection')) {
        assert.equal(history.find((h) => h.method === 'closeConnection')?.params.ticket ?? '', c.slots[0]);
      }
    });
  }

  it('uses the company file path authenticate names and records a postpone request', async () => {
    script = baseScript({
      authenticate: () => authReply(['T2', 'C:\\Other\\File.qbw', '60']),
      sendRequestXML: sequence('sendRequestXML', ['']),
    });
    const report = await simulator().runSession();
    assert.equal(history[3]?.params.strCompanyFileName, 'C:\\Other\\File.qbw');
    assert.equal(report.postponeSeconds, 60);
  });

  it('after NoOp and getLastError NoOp, waits and asks again', async () => {
    script = baseScript({
      sendRequestXML: sequence('sendRequestXML', ['NoOp', 'NoOp', REQUEST_2]),
      getLastError: () => stringReply('getLastError', 'NoOp'),
      receiveResponseXML: () => stringReply('receiveResponseXML', '100'),
    });
    const report = await simulator().runSession();
    assert.equal(report.outcome, 'completed');
    assert.deepEqual(report.calls.slice(3), [
      'sendRequestXML',
      'getLastError',
      'sendRequestXML',
      'getLastError',
      'sendRequestXML',
      'receiveResponseXML',
      'closeConnection',
    ]);
    assert.equal(events.filter((e) => e.type === 'noOpWait').length, 2);
    assert.equal(report.roundTrips, 1);
  });

  it('after NoOp and a getLastError message, shows it as the run error and closes', async () => {
    script = baseScript({
      sendRequestXML: () => stringReply('sendRequestXML', 'NoOp'),
      getLastError: () => stringReply('getLastError', 'Queue paused by operator'),
    });
    const report = await simulator().runSession();
    assert.deepEqual(report.calls.slice(3), ['sendRequestXML', 'getLastError', 'closeConnection']);
    assert.equal(report.outcome, 'error');
    assert.equal(report.lastError, 'Queue paused by operator');
  });

  it('an empty sendRequestXML leads to getLastError then closeConnection, and QBWC shows the text as an error', async () => {
    script = baseScript({
      sendRequestXML: () => stringReply('sendRequestXML', ''),
      getLastError: () => stringReply('getLastError', 'Nothing to do'),
    });
    const report = await simulator().runSession();
    assert.equal(report.outcome, 'error');
    assert.deepEqual(report.calls.slice(3), ['sendRequestXML', 'getLastError', 'closeConnection']);
    assert.equal(report.lastError, 'Nothing to do');
    assert.equal(report.roundTrips, 0);
  });

  it('an empty sendRequestXML after a round trip ends the run as an error even when getLastError says nothing', async () => {
    script = baseScript({
      sendRequestXML: sequence('sendRequestXML', [REQUEST_1, '']),
      receiveResponseXML: () => stringReply('receiveResponseXML', '99'),
      getLastError: () => stringReply('getLastError', ''),
    });
    const report = await simulator().runSession();
    assert.equal(report.outcome, 'error');
    assert.equal(report.lastError, 'sendRequestXML returned no request');
    assert.equal(report.roundTrips, 1);
  });

  it('a negative percent leads to getLastError then closeConnection and an error outcome', async () => {
    script = baseScript({
      sendRequestXML: () => stringReply('sendRequestXML', REQUEST_2),
      receiveResponseXML: () => stringReply('receiveResponseXML', '-101'),
      getLastError: () => stringReply('getLastError', 'Response could not be matched'),
    });
    const report = await simulator().runSession();
    assert.equal(report.outcome, 'error');
    assert.equal(report.lastError, 'Response could not be matched');
    assert.deepEqual(report.calls.slice(3), [
      'sendRequestXML',
      'receiveResponseXML',
      'getLastError',
      'closeConnection',
    ]);
  });

  it('forwards a QuickBooks parse error as empty response with hresult and message', async () => {
    const broken = qbxml('<Broken><CustomerAddRq/></Broken>');
    script = baseScript({
      sendRequestXML: () => stringReply('sendRequestXML', broken),
      receiveResponseXML: () => stringReply('receiveResponseXML', '100'),
    });
    const report = await simulator().runSession();
    assert.equal(report.outcome, 'completed');
    const receive = history.find((h) => h.method === 'receiveResponseXML');
    assert.match(
      receive?.raw ?? '',
      /<response \/><hresult>0x80040400<\/hresult><message>QuickBooks found an error when parsing the provided XML text stream\.<\/message>/,
    );
    assert.ok(events.some((e) => e.type === 'processorRejected' && e.hresult === '0x80040400'));
  });

  it('reports a processor failure without hresult as QuickBooks unexpected error', async () => {
    const sim = new WebConnectorSimulator({
      qwc: qwc(),
      password: 'x',
      companyFilePath: 'C:\\a.qbw',
      processor: () => Promise.reject(new Error('socket hang up')),
      log: () => undefined,
    });
    script = baseScript({
      sendRequestXML: () => stringReply('sendRequestXML', REQUEST_2),
      receiveResponseXML: () => stringReply('receiveResponseXML', '100'),
    });
    await sim.runSession();
    assert.equal(history.find((h) => h.method === 'receiveResponseXML')?.params.hresult, '0x80040402');
  });

  const connectionErrorCases: { name: string; answers: string[]; calls: number }[] = [
    { name: 'done', answers: ['done'], calls: 1 },
    { name: 'DONE', answers: ['DONE'], calls: 1 },
    { name: 'retry once then done', answers: ['', 'done'], calls: 2 },
    { name: 'a path, then never more than one retry', answers: ['C:\\retry.qbw', 'C:\\retry.qbw'], calls: 2 },
  ];
  for (const c of connectionErrorCases) {
    it(`company file unavailable → connectionError (${c.name})`, async () => {
      script = baseScript({ connectionError: sequence('connectionError', c.answers) });
      const report = await simulator().runSession({ companyFileUnavailable: true });
      assert.equal(report.outcome, 'connectionError');
      assert.deepEqual(report.calls, [
        'serverVersion',
        'clientVersion',
        'authenticate',
        ...Array<string>(c.calls).fill('connectionError'),
      ]);
      const ce = history.find((h) => h.method === 'connectionError');
      assert.deepEqual(ce?.params, {
        ticket: 'TICKET-1',
        hresult: '0x80040408',
        message: 'Could not start QuickBooks.',
      });
      assert.deepEqual(processed, []);
    });
  }

  const failureCases: {
    name: string;
    overrides: Partial<Record<string, (seen: Seen, history: Seen[]) => Reply>>;
    lastCall: string;
    error: RegExp;
  }[] = [
    {
      name: 'SOAP Fault on authenticate',
      overrides: { authenticate: () => faultReply('database down') },
      lastCall: 'authenticate',
      error: /SOAP Fault SOAP-ENV:Server: database down/,
    },
    {
      name: 'HTTP 404 on sendRequestXML',
      overrides: { sendRequestXML: () => ({ status: 404, body: 'not found' }) },
      lastCall: 'sendRequestXML',
      error: /HTTP 404/,
    },
    {
      name: 'empty 200 reply',
      overrides: { serverVersion: () => ({ body: '' }) },
      lastCall: 'serverVersion',
      error: /empty response/,
    },
    {
      name: 'reply that is not XML',
      overrides: { clientVersion: () => ({ body: '<oops' }) },
      lastCall: 'clientVersion',
      error: /not well-formed|SOAP envelope/,
    },
    {
      name: 'wrong response element',
      overrides: { clientVersion: () => stringReply('serverVersion', 'x') },
      lastCall: 'clientVersion',
      error: /no <clientVersionResponse>/,
    },
    {
      name: 'DOCTYPE in reply',
      overrides: { serverVersion: () => ({ body: '<!DOCTYPE x [<!ENTITY a "b">]><x/>' }) },
      lastCall: 'serverVersion',
      error: /DOCTYPE/,
    },
    {
      name: 'decimal percent',
      overrides: {
        sendRequestXML: () => stringReply('sendRequestXML', REQUEST_2),
        receiveResponseXML: () => stringReply('receiveResponseXML', '50.5'),
      },
      lastCall: 'receiveResponseXML',
      error: /must be an integer/,
    },
    {
      name: 'percent above 100',
      overrides: {
        sendRequestXML: () => stringReply('sendRequestXML', REQUEST_2),
        receiveResponseXML: () => stringReply('receiveResponseXML', '150'),
      },
      lastCall: 'receiveResponseXML',
      error: /above 100/,
    },
    {
      name: 'clientVersion E:',
      overrides: { clientVersion: () => stringReply('clientVersion', 'E:Upgrade the Web Connector') },
      lastCall: 'clientVersion',
      error: /^Upgrade the Web Connector$/,
    },
    {
      name: 'clientVersion O: newer than us',
      overrides: { clientVersion: () => stringReply('clientVersion', 'O:3.0') },
      lastCall: 'clientVersion',
      error: /requires QuickBooks Web Connector 3\.0/,
    },
  ];
  for (const c of failureCases) {
    it(`ends the run on ${c.name} without further calls`, async () => {
      script = baseScript(c.overrides);
      const report = await simulator().runSession();
      assert.equal(report.outcome, 'error');
      assert.match(report.lastError ?? '', c.error);
      assert.equal(report.calls.at(-1), c.lastCall);
      assert.equal(history.length, report.calls.length);
    });
  }

  for (const answer of ['W:Please upgrade soon', 'O:2.0', 'O:2.3.0.215']) {
    it(`clientVersion ${answer} lets the run carry on`, async () => {
      script = baseScript({
        clientVersion: () => stringReply('clientVersion', answer),
        sendRequestXML: () => stringReply('sendRequestXML', ''),
      });
      const report = await simulator().runSession();
      assert.equal(report.outcome, 'error', 'the empty sendRequestXML, not the clientVersion answer, ends it');
      assert.ok(report.calls.includes('closeConnection'));
    });
  }

  const abortCases = [
    { after: 0, calls: ['serverVersion', 'clientVersion', 'authenticate'], roundTrips: 0 },
    {
      after: 1,
      calls: ['serverVersion', 'clientVersion', 'authenticate', 'sendRequestXML', 'receiveResponseXML'],
      roundTrips: 1,
    },
    {
      after: 2,
      calls: [
        'serverVersion',
        'clientVersion',
        'authenticate',
        'sendRequestXML',
        'receiveResponseXML',
        'sendRequestXML',
        'receiveResponseXML',
      ],
      roundTrips: 2,
    },
  ];
  for (const c of abortCases) {
    it(`abortAfterRoundTrips ${c.after} stops without closeConnection`, async () => {
      // the second percent is 100: even then a killed QBWC never closes the connection
      script = baseScript({
        sendRequestXML: sequence('sendRequestXML', [REQUEST_1, REQUEST_2, REQUEST_2]),
        receiveResponseXML: sequence('receiveResponseXML', ['10', '100']),
      });
      const report = await simulator().runSession({ abortAfterRoundTrips: c.after });
      assert.equal(report.outcome, 'aborted');
      assert.deepEqual(report.calls, c.calls);
      assert.equal(report.roundTrips, c.roundTrips);
    });
  }

  it("ends its QuickBooks session after every run, a killed one included, so the run's iterators end with it", async () => {
    script = baseScript({
      sendRequestXML: sequence('sendRequestXML', [REQUEST_1, REQUEST_2]),
      receiveResponseXML: sequence('receiveResponseXML', ['50', '100']),
    });
    let ended = 0;
    const counting = Object.assign((request: string) => processor(request), { endSession: () => void (ended += 1) });
    const make = () =>
      new WebConnectorSimulator({
        qwc: qwc(),
        password: 'p&ss<word>',
        companyFilePath: 'C:\\QuickBooks\\Acme & Co.qbw',
        processor: counting,
        noOpWaitMs: 5,
        log: (e) => events.push(e),
      });
    assert.equal((await make().runSession()).outcome, 'completed');
    assert.equal(ended, 1);
    history = [];
    assert.equal((await make().runSession({ abortAfterRoundTrips: 1 })).outcome, 'aborted');
    assert.equal(ended, 2);
  });

  it('start() runs sessions on the QWC timer, one at a time, and stop() waits for the current one', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let sessions = 0;
    let release: (() => void) | undefined;
    const secondSessionStarted = new Promise<void>((resolve) => (release = resolve));
    script = baseScript({
      authenticate: (seen) => {
        inFlight += 1;
        sessions += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (sessions === 2) release?.();
        return authReply([`T${sessions}`, seen.params.strUserName === 'acme' ? '' : 'nvu']);
      },
      sendRequestXML: () => stringReply('sendRequestXML', ''),
      closeConnection: () => {
        inFlight -= 1;
        return stringReply('closeConnection', 'OK');
      },
    });
    const sim = simulator();
    sim.start();
    sim.start(); // a second start must not create a second timer
    await secondSessionStarted;
    await sim.stop();
    const countAfterStop = history.filter((h) => h.method === 'closeConnection').length;
    assert.equal(maxInFlight, 1);
    assert.equal(inFlight, 0, 'stop() returned only after the running session closed');
    assert.ok(countAfterStop >= 2);
    assert.equal(history.at(-1)?.method, 'closeConnection');
  });

  it('runSession calls never overlap', async () => {
    script = baseScript({ sendRequestXML: () => stringReply('sendRequestXML', '') });
    const sim = simulator();
    const [a, b] = await Promise.all([sim.runSession(), sim.runSession()]);
    assert.equal(a.outcome, 'error');
    assert.equal(b.outcome, 'error');
    const methods = history.map((h) => h.method);
    assert.equal(methods.indexOf('closeConnection'), 5);
    assert.equal(methods.lastIndexOf('serverVersion'), 6);
  });

  it('start() refuses a QWC without a Scheduler', () => {
    const sim = new WebConnectorSimulator({
      qwc: { ...qwc(), runEveryNSeconds: undefined },
      password: 'x',
      companyFilePath: 'c',
      processor,
      log: () => undefined,
    });
    assert.throws(() => sim.start(), /no Scheduler/);
  });

  it('refuses to load a QWC whose AppURL is remote http, as QBWC does (QBWC1051)', () => {
    assert.throws(
      () =>
        new WebConnectorSimulator({
          qwc: { ...qwc(), appUrl: 'http://sync.example.com/qbwc' },
          password: 'x',
          companyFilePath: 'c',
          processor,
        }),
      /QBWC1051/,
    );
  });
});
