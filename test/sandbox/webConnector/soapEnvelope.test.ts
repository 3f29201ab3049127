import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildQbwcRequest,
  QbwcProtocolError,
  readIntResult,
  readStringArrayResult,
  readStringResult,
  SoapFaultError,
} from '../../../src/sandbox/webConnector/soapEnvelope';
import { countQbxmlRequests } from '../../../src/sandbox/webConnector/webConnectorSimulator';

const wrap = (inner: string, prefix = 'soap'): string =>
  `<${prefix}:Envelope xmlns:${prefix}="http://schemas.xmlsoap.org/soap/envelope/"><${prefix}:Body>${inner}</${prefix}:Body></${prefix}:Envelope>`;

describe('buildQbwcRequest', () => {
  it('writes the method unprefixed in the default namespace, empty values as empty elements, text escaped', () => {
    const xml = buildQbwcRequest('receiveResponseXML', [
      ['ticket', 'T'],
      ['response', '<?xml version="1.0" ?><QBXML><Name>A & "B"</Name></QBXML>'],
      ['hresult', ''],
      ['message', ''],
    ]);
    assert.ok(
      xml.startsWith(
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"',
      ),
    );
    assert.ok(
      xml.includes(
        '<soap:Body><receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T</ticket><response>&lt;?xml version="1.0" ?&gt;&lt;QBXML&gt;&lt;Name&gt;A &amp; "B"&lt;/Name&gt;&lt;/QBXML&gt;</response><hresult /><message /></receiveResponseXML></soap:Body>',
      ),
    );
  });

  it('sends serverVersion with no children', () => {
    assert.match(
      buildQbwcRequest('serverVersion', []),
      /<soap:Body><serverVersion xmlns="http:\/\/developer\.intuit\.com\/" \/><\/soap:Body>/,
    );
  });

  it('writes integers as text', () => {
    assert.match(buildQbwcRequest('sendRequestXML', [['qbXMLMajorVers', 13]]), /<qbXMLMajorVers>13<\/qbXMLMajorVers>/);
  });
});

describe('reading replies', () => {
  const prefixes = ['soap', 'SOAP-ENV', 's'];
  for (const prefix of prefixes) {
    it(`ignores the server's prefix choice (${prefix}) and decodes escaped text`, () => {
      const body = wrap(
        '<ns1:sendRequestXMLResponse xmlns:ns1="http://developer.intuit.com/"><ns1:sendRequestXMLResult>&lt;QBXML&gt;&lt;N&gt;Tom &amp;amp; Jerry&#xD;&lt;/N&gt;&lt;/QBXML&gt;</ns1:sendRequestXMLResult></ns1:sendRequestXMLResponse>',
        prefix,
      );
      assert.equal(readStringResult('sendRequestXML', body), '<QBXML><N>Tom &amp; Jerry\r</N></QBXML>');
    });
  }

  it('reads unprefixed default-namespace replies too', () => {
    const body = wrap(
      '<closeConnectionResponse xmlns="http://developer.intuit.com/"><closeConnectionResult>OK</closeConnectionResult></closeConnectionResponse>',
    );
    assert.equal(readStringResult('closeConnection', body), 'OK');
  });

  const arrayCases: { name: string; inner: string; expected: string[] }[] = [
    {
      name: 'four slots, empties kept',
      inner:
        '<string>T</string><string></string><string/><string xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
      expected: ['T', '', '', ''],
    },
    { name: 'one slot', inner: '<string>T</string>', expected: ['T'] },
    { name: 'no slots', inner: '', expected: [] },
  ];
  for (const c of arrayCases) {
    it(`authenticateResult: ${c.name}`, () => {
      const body = wrap(
        `<authenticateResponse xmlns="http://developer.intuit.com/"><authenticateResult>${c.inner}</authenticateResult></authenticateResponse>`,
      );
      assert.deepEqual(readStringArrayResult('authenticate', body), c.expected);
    });
  }

  it('treats a missing optional Result as empty', () => {
    assert.equal(
      readStringResult('getLastError', wrap('<getLastErrorResponse xmlns="http://developer.intuit.com/"/>')),
      '',
    );
  });

  const intCases: { text: string; value?: number }[] = [
    { text: '0', value: 0 },
    { text: '100', value: 100 },
    { text: ' 42 ', value: 42 },
    { text: '-101', value: -101 },
    { text: '50.5' },
    { text: '' },
    { text: 'abc' },
  ];
  for (const c of intCases) {
    it(`receiveResponseXMLResult ${JSON.stringify(c.text)} → ${c.value ?? 'error'}`, () => {
      const body = wrap(
        `<receiveResponseXMLResponse xmlns="http://developer.intuit.com/"><receiveResponseXMLResult>${c.text}</receiveResponseXMLResult></receiveResponseXMLResponse>`,
      );
      if (c.value === undefined) assert.throws(() => readIntResult('receiveResponseXML', body), QbwcProtocolError);
      else assert.equal(readIntResult('receiveResponseXML', body), c.value);
    });
  }

  it('turns a Fault into SoapFaultError', () => {
    const body = wrap(
      '<soap:Fault><faultcode>soap:Client</faultcode><faultstring>bad &amp; wrong</faultstring></soap:Fault>',
    );
    assert.throws(
      () => readStringResult('authenticate', body),
      (err: unknown) =>
        err instanceof SoapFaultError && err.faultcode === 'soap:Client' && err.faultstring === 'bad & wrong',
    );
  });

  const badBodies: { name: string; body: string; error: RegExp }[] = [
    { name: 'DOCTYPE', body: '<!DOCTYPE a [<!ENTITY x "y">]>' + wrap('<a/>'), error: /DOCTYPE/ },
    { name: 'not XML', body: '<soap:Envelope', error: /not well-formed|SOAP envelope/ },
    { name: 'no envelope', body: '<html><body>502</body></html>', error: /not a SOAP envelope/ },
    { name: 'other method', body: wrap('<fooResponse/>'), error: /no <getLastErrorResponse> \(found fooResponse\)/ },
  ];
  for (const c of badBodies) {
    it(`refuses ${c.name}`, () => {
      assert.throws(
        () => readStringResult('getLastError', c.body),
        (err: unknown) => err instanceof QbwcProtocolError && c.error.test(err.message),
      );
    });
  }
});

describe('countQbxmlRequests', () => {
  const cases: { name: string; qbxml: string; count: number }[] = [
    {
      name: 'two different requests',
      qbxml:
        '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerAddRq/><VendorQueryRq/></QBXMLMsgsRq></QBXML>',
      count: 2,
    },
    {
      name: 'repeated request type',
      qbxml: '<QBXML><QBXMLMsgsRq><CustomerAddRq/><CustomerAddRq/><CustomerAddRq/></QBXMLMsgsRq></QBXML>',
      count: 3,
    },
    {
      name: 'nested names ending in Rq do not count',
      qbxml: '<QBXML><QBXMLMsgsRq><DataExtAddRq><DataExtAdd/></DataExtAddRq></QBXMLMsgsRq></QBXML>',
      count: 1,
    },
    { name: 'empty message set', qbxml: '<QBXML><QBXMLMsgsRq/></QBXML>', count: 0 },
    { name: 'not qbXML', qbxml: 'NoOp', count: 0 },
    { name: 'malformed', qbxml: '<QBXML><QBXMLMsgsRq><CustomerAddRq></QBXML>', count: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(countQbxmlRequests(c.qbxml), c.count));
  }
});
