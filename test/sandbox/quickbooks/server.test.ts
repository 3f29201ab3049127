import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompanyFileSimulator } from '../../../src/sandbox/quickbooks/companyFile';
import { startQuickBooksSandbox, type QuickBooksSandbox } from '../../../src/sandbox/quickbooks/server';

const request = (body: string) =>
  `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`;

describe('QuickBooks sandbox HTTP server', () => {
  let sandbox: QuickBooksSandbox;
  const east = new CompanyFileSimulator({ name: 'east' });
  const west = new CompanyFileSimulator({ name: 'west' });

  before(async () => {
    sandbox = await startQuickBooksSandbox({ port: 0, host: '127.0.0.1', companyFiles: [east, west] });
  });
  after(async () => {
    await sandbox.close();
  });

  it('reports health with the company file names', async () => {
    const res = await fetch(`${sandbox.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', companyFiles: ['east', 'west'] });
  });

  const routes: { name: string; path: string; headers: Record<string, string>; file: CompanyFileSimulator }[] = [
    { name: 'query parameter', path: '/qbxml?companyFile=east', headers: {}, file: east },
    { name: 'X-Company-File header', path: '/qbxml', headers: { 'X-Company-File': 'west' }, file: west },
  ];
  for (const r of routes) {
    it(`routes by ${r.name} to the right company file`, async () => {
      const res = await fetch(`${sandbox.url}${r.path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', ...r.headers },
        body: request(
          `<CustomerAddRq requestID="7"><CustomerAdd><Name>Via ${r.name}</Name></CustomerAdd></CustomerAddRq>`,
        ),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/xml/);
      assert.match(await res.text(), /<CustomerAddRs requestID="7" statusCode="0"/);
      assert.equal(r.file.count('Customer'), 1);
    });
  }

  const failures: {
    name: string;
    path: string;
    body: string;
    status: number;
    json: Record<string, string> | undefined;
  }[] = [
    {
      name: 'a parse error',
      path: '/qbxml?companyFile=east',
      body: request('<CustomerAddRq><CustomerAdd><Phone>1</Phone><Name>x</Name></CustomerAdd></CustomerAddRq>'),
      status: 400,
      json: { hresult: '0x80040400', message: 'QuickBooks found an error when parsing the provided XML text stream.' },
    },
    {
      name: 'an unknown company file',
      path: '/qbxml?companyFile=north',
      body: request(''),
      status: 404,
      json: undefined,
    },
  ];
  for (const f of failures) {
    it(`answers ${f.status} for ${f.name}`, async () => {
      const res = await fetch(`${sandbox.url}${f.path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml' },
        body: f.body,
      });
      assert.equal(res.status, f.status);
      const json = (await res.json()) as Record<string, string>;
      if (f.json) assert.deepEqual(json, f.json);
    });
  }
});
