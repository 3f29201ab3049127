import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildQbxmlMessage, QbxmlSyntaxError } from '../../src/qbxml';
import { decodeXmlText, escapeXml, parseXmlDocument } from '../../src/qbxml/xml';
import { bodyOf, child, requestElements } from './elementOrder';

describe('escaping round trip through builder and parser', () => {
  const values = [
    `& < > " '`,
    'Café Ünïcode € ™',
    '&#153;',
    'Tom & Jerry\'s "Best" <Widgets>',
    'Œuvre “quoted” — dash',
    '&amp; already escaped stays literal',
  ];
  for (const value of values) {
    it(JSON.stringify(value), () => {
      const xml = buildQbxmlMessage([
        {
          type: 'CustomerAdd',
          requestId: `id ${value}`.slice(0, 50),
          fields: { name: value.slice(0, 41), notes: value },
        },
      ]);
      const [rq] = requestElements(xml);
      assert.ok(rq);
      assert.equal(rq.attributes.requestID, `id ${value}`.slice(0, 50));
      assert.equal(child(bodyOf(rq), 'Notes').text, value);
    });
  }

  it('escapes all five specials in output', () => {
    assert.equal(escapeXml(`&<>"'`), '&amp;&lt;&gt;&quot;&apos;');
    assert.equal(escapeXml('日本 Café'), '日本 Café');
  });
});

describe('character references', () => {
  const cases: Array<[string, string]> = [
    ['&amp;&lt;&gt;&quot;&apos;', `&<>"'`],
    ['Acme&#153;', 'Acme™'],
    ['&#x65E5;&#26412;', '日本'],
    ['&#233;', 'é'],
    ['&#x1F600;', '😀'],
    ['&#128;', '€'],
    ['&#129;', '\u0081'],
  ];
  for (const [raw, decoded] of cases) {
    it(`${raw} → ${decoded}`, () => {
      assert.equal(decodeXmlText(raw), decoded);
      assert.equal(parseXmlDocument(`<a x="${raw}">${raw}</a>`).text, decoded);
      assert.equal(parseXmlDocument(`<a x="${raw}">${raw}</a>`).attributes.x, decoded);
    });
  }

  const bad = ['&nbsp;', '&#0;', '&#xD800;', '&#x110000;', 'a & b', '&amp', '&unknown;'];
  for (const raw of bad) {
    it(`refuses ${JSON.stringify(raw)}`, () => {
      assert.throws(() => parseXmlDocument(`<a>${raw}</a>`), QbxmlSyntaxError);
    });
  }

  it('keeps CDATA literal', () => {
    assert.equal(parseXmlDocument('<a><![CDATA[x &amp; <y>]]></a>').text, 'x &amp; <y>');
  });
});

describe('hostile or malformed documents are refused', () => {
  const cases: Array<[string, string]> = [
    ['DOCTYPE', '<!DOCTYPE QBXML><QBXML/>'],
    ['internal ENTITY', '<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>'],
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    ],
    ['external entity', '<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>'],
    ['lower-case doctype', '<!doctype a><a/>'],
    ['mismatched tags', '<QBXML><QBXMLMsgsRs></QBXML>'],
    ['unclosed root', '<QBXML><QBXMLMsgsRs/>'],
    ['two roots', '<a/><b/>'],
    ['text only', 'not xml'],
    ['empty', ''],
    ['xml declaration in the middle', '<a><?xml version="1.0"?><b/></a>'],
    ['control character', '<a>\u0001</a>'],
    ['unquoted attribute', '<a x=1/>'],
  ];
  for (const [name, xml] of cases) {
    it(name, () => {
      assert.throws(
        () => parseXmlDocument(xml),
        (err: unknown) => err instanceof QbxmlSyntaxError && err.name === 'QbxmlSyntaxError',
      );
    });
  }

  it('accepts a BOM, comments, processing instructions and spaces around =', () => {
    const root = parseXmlDocument(
      '\ufeff<?xml version="1.0" ?><!-- c --><?qbxml version="13.0"?><QBXML a = "1"><B>x</B></QBXML>',
    );
    assert.equal(root.name, 'QBXML');
    assert.equal(root.attributes.a, '1');
    assert.equal(root.children[0]?.text, 'x');
  });
});
