import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { QbwcService } from '../../src/gateway/qbwc/service';
import { createSoapEndpoint } from '../../src/gateway/qbwc/soapEndpoint';
import { TicketAuthority } from '../../src/gateway/qbwc/tickets';
import { checkXmlShape, SOAP_ENVELOPE_LIMITS } from '../../src/qbxml/xmlShape';
import { postSoap, qbwcEnvelope, silentLog } from '../support/gateway';

const tickets = new TicketAuthority(randomBytes(32));
/** What reached the service: every method call, and the size of each response it was handed. */
const reached: string[] = [];
const responseSizes: number[] = [];
/** The caller's address as authenticate sees it (its per-address backoff depends on it). */
const addresses: Array<string | undefined> = [];

const reports: string[] = [];
const service = {
  serverVersion: async () => {
    reached.push('serverVersion');
    return { serverVersionResult: '1.0' };
  },
  clientVersion: async () => ({ clientVersionResult: '' }),
  authenticate: async (
    _args: unknown,
    _callback: unknown,
    _headers: unknown,
    request?: { connection?: { remoteAddress?: string } },
  ) => {
    reached.push('authenticate');
    addresses.push(request?.connection?.remoteAddress);
    return { authenticateResult: { string: ['', 'nvu'] } };
  },
  sendRequestXML: async () => ({ sendRequestXMLResult: '' }),
  receiveResponseXML: async (args: Record<string, unknown>) => {
    reached.push('receiveResponseXML');
    responseSizes.push(String(args.response ?? '').length);
    reports.push(
      `${String(args.hresult ?? '')} ${String(args.message ?? '').replace(/^.*(larger than \d+ bytes).*$/, '$1')}`,
    );
    return { receiveResponseXMLResult: 100 };
  },
  connectionError: async () => ({ connectionErrorResult: 'done' }),
  getLastError: async () => ({ getLastErrorResult: '' }),
  closeConnection: async () => ({ closeConnectionResult: 'OK' }),
} as unknown as QbwcService;

let server: Server;
let url: string;

before(async () => {
  const app = express();
  app.use(await createSoapEndpoint({ service, publicUrl: 'http://127.0.0.1/qbwc', log: silentLog, tickets }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/qbwc`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const FAULT = /<soap:Fault>.*<faultcode>soap:Client<\/faultcode>/s;

function post(method: string, body: string) {
  return postSoap(url, method, body);
}

describe('SOAP body limits before authentication', () => {
  it('refuses any call over 64 KB unless it is receiveResponseXML with a current ticket', async () => {
    reached.length = 0;
    const padding = 'p'.repeat(70 * 1024);
    const refusals = [
      qbwcEnvelope('authenticate', { strUserName: padding, strPassword: 'x' }),
      qbwcEnvelope('receiveResponseXML', {
        ticket: `east~${'A'.repeat(32)}`,
        response: padding,
        hresult: '',
        message: '',
      }),
      qbwcEnvelope('receiveResponseXML', {
        ticket: new TicketAuthority(randomBytes(32)).mint('east'),
        response: padding,
        hresult: '',
        message: '',
      }),
      // A current ticket does not make another method's body large.
      qbwcEnvelope('connectionError', { ticket: tickets.mint('east'), hresult: '', message: padding }),
    ];
    for (const body of refusals) {
      const res = await post('receiveResponseXML', body);
      assert.equal(res.status, 413, res.text.slice(0, 200));
      assert.match(res.text, FAULT);
      assert.match(res.text, /larger than 65536 bytes/);
    }
    assert.deepEqual(reached, []);

    // qbwcEnvelope escapes it, as QBWC does.
    const page = '<QBXML>' + 'x'.repeat(2 * 1024 * 1024) + '</QBXML>';
    const res = await post(
      'receiveResponseXML',
      qbwcEnvelope('receiveResponseXML', { ticket: tickets.mint('east'), response: page, hresult: '', message: '' }),
    );
    assert.equal(res.status, 200, res.text.slice(0, 300));
    assert.deepEqual(reached, ['receiveResponseXML']);
    assert.equal(responseSizes.at(-1), 2 * 1024 * 1024 + '<QBXML></QBXML>'.length);
  });

  it('refuses even a current ticket past the large limit, telling the company file its answer was too large', async () => {
    reached.length = 0;
    responseSizes.length = 0;
    const res = await post(
      'receiveResponseXML',
      qbwcEnvelope('receiveResponseXML', {
        ticket: tickets.mint('east'),
        response: 'x'.repeat(11 * 1024 * 1024),
        hresult: '',
        message: '',
      }),
    );
    assert.equal(res.status, 413);
    assert.match(res.text, /larger than 10485760 bytes/);
    // The session's queries are then asked again alone, and given up after a few oversized answers; the body itself
    // goes nowhere.
    assert.deepEqual(reached, ['receiveResponseXML']);
    assert.deepEqual(responseSizes, [0]);
    assert.match(reports.at(-1) ?? '', /^unreadable-response larger than 10485760 bytes/);
  });

  it('refuses deep nesting, many elements and many attributes with a fault, whatever the ticket', async () => {
    reached.length = 0;
    const ticket = tickets.mint('east');
    const wrap = (inner: string) =>
      '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
      `<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>${ticket}</ticket>${inner}</receiveResponseXML></soap:Body></soap:Envelope>`;
    const hostile: Array<[string, RegExp]> = [
      [wrap('<a>'.repeat(200_000)), /nested deeper than 16/],
      [wrap('<b/>'.repeat(100_000)), /more than 64 elements/],
      [wrap(`<c ${Array.from({ length: 100_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`), /more than 64 attributes/],
      [
        qbwcEnvelope('authenticate', { strUserName: 'NAME', strPassword: '' }).replace('NAME', '<x>'.repeat(10_000)),
        /nested deeper/,
      ],
    ];
    for (const [body, reason] of hostile) {
      const res = await post('receiveResponseXML', body);
      assert.equal(res.status, 500, res.text.slice(0, 200));
      assert.match(res.text, FAULT);
      assert.match(res.text, reason);
    }
    assert.deepEqual(reached, []);
  });

  it('keeps answering other callers while hostile bodies are refused', async () => {
    reached.length = 0;
    const hostile = qbwcEnvelope('authenticate', { strUserName: '', strPassword: '' }).replace(
      '<strUserName />',
      '<a>'.repeat(20_000),
    );
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? post('authenticate', hostile) : post('serverVersion', qbwcEnvelope('serverVersion', {})),
      ),
    );
    answers.forEach((res, i) => assert.equal(res.status, i % 2 === 0 ? 500 : 200));
    assert.deepEqual(reached, Array(20).fill('serverVersion'));
  });

  it('answers an envelope the SOAP library cannot map with a SOAP Fault, not its internal error (found by fuzzing)', async () => {
    reached.length = 0;
    for (const body of [
      qbwcEnvelope('serverVersion', {}).replace('<soap:Body>', '<soap:Body> a0="1" '),
      qbwcEnvelope('getLastError', { ticket: 'x' }).replace('<soap:Body>', '<soap:Body>il'),
    ]) {
      const res = await post('getLastError', body);
      assert.equal(res.status, 500);
      assert.match(res.text, FAULT);
      assert.doesNotMatch(res.text, /Cannot use|operator|TypeError/);
    }
    assert.deepEqual(reached, []);
  });

  it("hands authenticate the caller's address", async () => {
    addresses.length = 0;
    const res = await post('authenticate', qbwcEnvelope('authenticate', { strUserName: 'qb-east', strPassword: 'x' }));
    assert.equal(res.status, 200);
    assert.equal(addresses.length, 1);
    assert.match(addresses[0] ?? '', /^(::ffff:)?127\.0\.0\.1$/);
  });

  it('scans the shape of a hostile document only until a cap is passed', () => {
    assert.deepEqual(
      checkXmlShape('<a><b x="1" y=\'>\'/><!-- <c><c><c> --><![CDATA[<d><d>]]></a>', SOAP_ENVELOPE_LIMITS),
      {
        ok: true,
      },
    );
    assert.deepEqual(checkXmlShape('<a>'.repeat(17), SOAP_ENVELOPE_LIMITS), {
      ok: false,
      reason: 'nested deeper than 16 elements',
    });
    assert.deepEqual(checkXmlShape('<a/>'.repeat(64), SOAP_ENVELOPE_LIMITS), { ok: true });
  });
});
