import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import {
  httpCompanyFileProcessor,
  processingFailureOf,
  QuickBooksProcessingError,
} from '../../../src/sandbox/webConnector/companyFileProcessor';

describe('httpCompanyFileProcessor', () => {
  let server: Server;
  let base = '';
  const received: { body: string; contentType: string | undefined; companyFile: unknown }[] = [];

  before(async () => {
    const app = express();
    app.use(express.text({ type: () => true }));
    app.post('/qbxml', (req, res) => {
      const body = typeof req.body === 'string' ? req.body : '';
      received.push({ body, contentType: req.headers['content-type'], companyFile: req.query.companyFile });
      if (body.includes('<Bad')) {
        res.status(400).json({
          hresult: '0x80040400',
          message: 'QuickBooks found an error when parsing the provided XML text stream.',
        });
      } else if (body.includes('<Junk400')) {
        res.status(400).send('not json');
      } else if (body.includes('<Crash')) {
        res.status(500).send('boom');
      } else {
        res.type('text/xml').send(`<QBXML><QBXMLMsgsRs><EchoRs>${body.length}</EchoRs></QBXMLMsgsRs></QBXML>`);
      }
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/qbxml?companyFile=acme`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts the qbXML unchanged and returns the response text', async () => {
    const qbxml = '<?xml version="1.0"?><QBXML><QBXMLMsgsRq><CustomerQueryRq/></QBXMLMsgsRq></QBXML>';
    const out = await httpCompanyFileProcessor(base)(qbxml);
    assert.equal(out, `<QBXML><QBXMLMsgsRs><EchoRs>${qbxml.length}</EchoRs></QBXMLMsgsRs></QBXML>`);
    assert.deepEqual(received.at(-1), { body: qbxml, contentType: 'text/xml; charset=utf-8', companyFile: 'acme' });
  });

  const failures: { name: string; body: string; check: (err: unknown) => boolean }[] = [
    {
      name: '400 JSON becomes QuickBooksProcessingError',
      body: '<Bad/>',
      check: (err) =>
        err instanceof QuickBooksProcessingError && err.hresult === '0x80040400' && /parsing/.test(err.message),
    },
    {
      name: '400 without JSON is a plain error',
      body: '<Junk400/>',
      check: (err) => !(err instanceof QuickBooksProcessingError) && /HTTP 400/.test(String(err)),
    },
    {
      name: '500 is a plain error',
      body: '<Crash/>',
      check: (err) => !(err instanceof QuickBooksProcessingError) && /HTTP 500: boom/.test(String(err)),
    },
  ];
  for (const c of failures) {
    it(c.name, async () => {
      await assert.rejects(httpCompanyFileProcessor(base)(c.body), c.check);
    });
  }
});

describe('processingFailureOf', () => {
  const cases: { name: string; input: unknown; expected: ReturnType<typeof processingFailureOf> }[] = [
    {
      name: 'QuickBooksProcessingError',
      input: new QuickBooksProcessingError('0x80040401', 'Could not access QuickBooks.'),
      expected: { hresult: '0x80040401', message: 'Could not access QuickBooks.' },
    },
    { name: 'plain object', input: { hresult: '0x1', message: 'm' }, expected: { hresult: '0x1', message: 'm' } },
    { name: 'plain Error', input: new Error('x'), expected: undefined },
    { name: 'empty hresult', input: { hresult: '', message: 'm' }, expected: undefined },
    { name: 'numeric hresult', input: { hresult: 1, message: 'm' }, expected: undefined },
    { name: 'string', input: 'oops', expected: undefined },
    { name: 'null', input: null, expected: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(processingFailureOf(c.input), c.expected));
  }
});
