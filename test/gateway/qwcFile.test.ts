import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import {
  assertAppUrlAcceptable,
  buildQwcFile,
  deterministicGuid,
  parseQwcFile,
  QwcFileError,
  type QwcFile,
} from '../../src/gateway/qbwc/qwcFile';

const SAMPLES = join(__dirname, '..', 'fixtures', 'samples', 'qbxml');
const sampleNames = [
  'consolibyte-example.qwc.xml',
  'intuit-wcwebservice-http.qwc.xml',
  'intuit-wcwebservice-https.qwc.xml',
];
const samples = sampleNames.map((name) => ({ name, xml: readFileSync(join(SAMPLES, name), 'utf8') }));

/** Element names in document order, found with a real parser so text that looks like markup does not count. */
function elementNames(xml: string): string[] {
  const ordered: unknown = new XMLParser({ preserveOrder: true, ignoreAttributes: true }).parse(xml);
  const names: string[] = [];
  const walk = (nodes: unknown): void => {
    if (!Array.isArray(nodes)) return;
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      for (const [key, value] of Object.entries(node)) {
        if (key === '#text' || key.startsWith('?')) continue;
        names.push(key);
        walk(value);
      }
    }
  };
  walk(ordered);
  return names;
}

const base: QwcFile = {
  appName: 'QuickBooks ⇄ Dynamics 365',
  appUrl: 'https://sync.example.com/qbwc',
  appDescription: 'Keeps QuickBooks and Dynamics 365 Sales in agreement',
  appSupport: 'https://sync.example.com/support',
  userName: 'acme',
  ownerId: '90A44FB7-33D9-4815-AC85-AC86A7E7D1EB',
  fileId: '{57F3B9B6-86F1-4fcc-B1FF-967DE1813D20}',
  qbType: 'QBFS',
  runEveryNMinutes: 5,
  isReadOnly: false,
};

describe('buildQwcFile', () => {
  it('emits only elements seen in the published samples, and every element all samples share', () => {
    const union = new Set(samples.flatMap((s) => elementNames(s.xml)));
    const shared = [...union].filter((name) => samples.every((s) => elementNames(s.xml).includes(name)));
    for (const variant of [base, { ...base, style: 'Document' as const, authFlags: '0xF' }]) {
      const names = elementNames(buildQwcFile(variant));
      for (const name of names) assert.ok(union.has(name), `unexpected element ${name}`);
      for (const name of shared) assert.ok(names.includes(name), `missing required element ${name}`);
    }
  });

  it('writes elements in consolibyte order with braced GUIDs', () => {
    const xml = buildQwcFile({
      ...base,
      style: 'Document',
      personalDataPref: 'pdpOptional',
      unattendedModePref: 'umpOptional',
      authFlags: '0x0',
      notify: true,
      appDisplayName: 'Sync',
      appUniqueName: 'acme-sync',
    });
    assert.deepEqual(elementNames(xml), [
      'QBWCXML',
      'AppName',
      'AppID',
      'AppURL',
      'AppDescription',
      'AppSupport',
      'UserName',
      'OwnerID',
      'FileID',
      'QBType',
      'Style',
      'PersonalDataPref',
      'UnattendedModePref',
      'AuthFlags',
      'Notify',
      'AppDisplayName',
      'AppUniqueName',
      'Scheduler',
      'RunEveryNMinutes',
      'IsReadOnly',
    ]);
    assert.match(xml, /<OwnerID>\{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB\}<\/OwnerID>/);
    assert.match(xml, /<FileID>\{57F3B9B6-86F1-4fcc-B1FF-967DE1813D20\}<\/FileID>/);
  });

  const schedulerCases: { name: string; patch: Partial<QwcFile>; expect: RegExp | null }[] = [
    {
      name: 'minutes',
      patch: { runEveryNMinutes: 15 },
      expect: /<Scheduler><RunEveryNMinutes>15<\/RunEveryNMinutes><\/Scheduler>/,
    },
    {
      name: 'seconds below 60',
      patch: { runEveryNMinutes: undefined, runEveryNSeconds: 30 },
      expect: /<RunEveryNSeconds>30<\/RunEveryNSeconds>/,
    },
    {
      name: 'seconds from 60 become minutes',
      patch: { runEveryNMinutes: undefined, runEveryNSeconds: 120 },
      expect: /<RunEveryNMinutes>2<\/RunEveryNMinutes>/,
    },
    { name: 'no schedule', patch: { runEveryNMinutes: undefined }, expect: null },
  ];
  for (const c of schedulerCases) {
    it(`scheduler: ${c.name}`, () => {
      const xml = buildQwcFile({ ...base, ...c.patch });
      if (c.expect) assert.match(xml, c.expect);
      else assert.doesNotMatch(xml, /Scheduler/);
    });
  }

  const appUrlCases: { url: string; ok: boolean }[] = [
    { url: 'https://sync.example.com/qbwc', ok: true },
    { url: 'http://localhost:8080/qbwc', ok: true },
    { url: 'http://127.0.0.1:8080/qbwc', ok: true },
    { url: 'http://LOCALHOST/qbwc', ok: true },
    { url: 'http://sync.example.com/qbwc', ok: false },
    { url: 'http://10.0.0.5/qbwc', ok: false },
    { url: 'ftp://localhost/qbwc', ok: false },
    { url: 'not a url', ok: false },
  ];
  for (const c of appUrlCases) {
    it(`AppURL ${c.url} is ${c.ok ? 'accepted' : 'refused'}`, () => {
      if (c.ok) {
        assert.match(buildQwcFile({ ...base, appUrl: c.url }), /<AppURL>/);
      } else {
        assert.throws(() => buildQwcFile({ ...base, appUrl: c.url }), QwcFileError);
      }
    });
  }

  it('names QBWC1051 when refusing a remote http AppURL', () => {
    assert.throws(() => assertAppUrlAcceptable('http://sync.example.com/qbwc'), /QBWC1051/);
  });

  const badInputCases: { name: string; patch: Partial<QwcFile>; error: RegExp }[] = [
    { name: 'OwnerID not a GUID', patch: { ownerId: 'acme' }, error: /ownerId must be a GUID/ },
    { name: 'FileID not a GUID', patch: { fileId: '{1234}' }, error: /fileId must be a GUID/ },
    { name: 'both schedule units', patch: { runEveryNSeconds: 30 }, error: /not both/ },
    { name: 'zero minutes', patch: { runEveryNMinutes: 0 }, error: /positive integer/ },
    { name: 'fractional minutes', patch: { runEveryNMinutes: 1.5 }, error: /positive integer/ },
    { name: 'AuthFlags not hex', patch: { authFlags: '15' }, error: /AuthFlags/ },
    { name: 'empty user name', patch: { userName: ' ' }, error: /userName is required/ },
  ];
  for (const c of badInputCases) {
    it(`refuses ${c.name}`, () => {
      assert.throws(
        () => buildQwcFile({ ...base, ...c.patch }),
        (err: unknown) => err instanceof QwcFileError && c.error.test(err.message),
      );
    });
  }

  it('escapes markup characters in values and reads them back unchanged', () => {
    const tricky = {
      ...base,
      appName: 'A&B <Sync> "quoted" \'x\'',
      appDescription: "Tom & Jerry's <b>shop</b>",
      userName: 'a&b',
    };
    const xml = buildQwcFile(tricky);
    assert.match(xml, /<AppName>A&amp;B &lt;Sync&gt; &quot;quoted&quot; &apos;x&apos;<\/AppName>/);
    assert.doesNotMatch(xml, /<b>/);
    const back = parseQwcFile(xml);
    assert.equal(back.appName, tricky.appName);
    assert.equal(back.appDescription, tricky.appDescription);
    assert.equal(back.userName, 'a&b');
  });
});

describe('parseQwcFile', () => {
  it('reads the consolibyte sample', () => {
    const q = parseQwcFile(samples[0]?.xml ?? '');
    assert.deepEqual(q, {
      appName: 'QuickBooks Integrator',
      appId: '',
      appUrl: 'http://localhost/~kpalmer/QuickBooks/example_server_import_invoices.php',
      appDescription: '',
      appSupport: 'http://localhost/~kpalmer/QuickBooks/example_server_import_invoices.php?support=1',
      userName: 'quickbooks',
      ownerId: '{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}',
      fileId: '{57F3B9B6-86F1-4fcc-B1FF-967DE1813D20}',
      qbType: 'QBFS',
      runEveryNMinutes: 1,
      isReadOnly: false,
    });
  });

  for (const name of ['intuit-wcwebservice-http.qwc.xml', 'intuit-wcwebservice-https.qwc.xml']) {
    it(`reads ${name} (Style, AuthFlags, no IsReadOnly, OwnerID before UserName)`, () => {
      const q = parseQwcFile(samples.find((s) => s.name === name)?.xml ?? '');
      assert.equal(q.userName, 'username');
      assert.equal(q.style, 'Document');
      assert.equal(q.authFlags, '0xF');
      assert.equal(q.isReadOnly, false);
      assert.equal(q.runEveryNMinutes, undefined);
      assert.match(q.ownerId, /^\{[0-9A-Fa-f-]{36}\}$/);
    });
  }

  it('round-trips every sample through build and parse', () => {
    for (const s of samples) {
      const first = parseQwcFile(s.xml);
      assert.deepEqual(parseQwcFile(buildQwcFile(first)), first, s.name);
    }
  });

  it('round-trips every optional field', () => {
    const full: QwcFile = {
      ...base,
      appId: 'app-1',
      ownerId: '{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}',
      style: 'Document',
      authFlags: '0xF',
      personalDataPref: 'pdpNotNeeded',
      unattendedModePref: 'umpRequired',
      notify: false,
      appDisplayName: 'Sync',
      appUniqueName: 'acme-sync',
      runEveryNMinutes: undefined,
      runEveryNSeconds: 45,
      isReadOnly: true,
    };
    const { runEveryNMinutes: _unused, ...expected } = full;
    assert.deepEqual(parseQwcFile(buildQwcFile(full)), expected);
  });

  const badDocuments: { name: string; xml: string; error: RegExp }[] = [
    {
      name: 'DOCTYPE',
      xml: '<!DOCTYPE QBWCXML [<!ENTITY x "y">]><QBWCXML><AppName>&x;</AppName></QBWCXML>',
      error: /DOCTYPE or ENTITY/,
    },
    { name: 'wrong root', xml: '<Other><AppName>x</AppName></Other>', error: /root element/ },
    { name: 'not XML', xml: '<QBWCXML><AppName>x</QBWCXML>', error: /not well-formed/ },
    {
      name: 'missing UserName',
      xml: buildQwcFile(base).replace(/<UserName>.*<\/UserName>/, ''),
      error: /<UserName> is required/,
    },
    { name: 'bad QBType', xml: buildQwcFile(base).replace('QBFS', 'QBOE'), error: /QBType/ },
    {
      name: 'bad IsReadOnly',
      xml: buildQwcFile(base).replace('<IsReadOnly>false', '<IsReadOnly>maybe'),
      error: /IsReadOnly/,
    },
    {
      name: 'bad minutes',
      xml: buildQwcFile(base).replace('<RunEveryNMinutes>5', '<RunEveryNMinutes>-5'),
      error: /RunEveryNMinutes/,
    },
    {
      name: 'bad OwnerID',
      xml: buildQwcFile(base).replace(/<OwnerID>.*<\/OwnerID>/, '<OwnerID>owner</OwnerID>'),
      error: /OwnerID/,
    },
  ];
  for (const c of badDocuments) {
    it(`refuses ${c.name}`, () => {
      assert.throws(
        () => parseQwcFile(c.xml),
        (err: unknown) => err instanceof QwcFileError && c.error.test(err.message),
      );
    });
  }
});

describe('deterministicGuid', () => {
  it('matches the RFC 4122 v5 vector for a GUID namespace', () => {
    // uuid v5 of "www.example.com" in the DNS namespace, as published by RFC 4122 implementations
    assert.equal(
      deterministicGuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com'),
      '2ED6657D-E927-568B-95E1-2665A8AEA6A2',
    );
  });

  it('is stable per input and differs across names and namespaces', () => {
    const a = deterministicGuid('qb-d365-connector', 'connection-a/owner');
    assert.equal(deterministicGuid('qb-d365-connector', 'connection-a/owner'), a);
    assert.notEqual(deterministicGuid('qb-d365-connector', 'connection-b/owner'), a);
    assert.notEqual(deterministicGuid('other-namespace', 'connection-a/owner'), a);
    assert.match(a, /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  });

  it('produces GUIDs buildQwcFile accepts', () => {
    const ownerId = deterministicGuid('qb-d365-connector', 'acme/owner');
    const xml = buildQwcFile({ ...base, ownerId });
    assert.ok(xml.includes(`<OwnerID>{${ownerId}}</OwnerID>`));
  });
});
