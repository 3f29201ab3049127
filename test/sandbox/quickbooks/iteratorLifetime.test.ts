import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CompanyFileSimulator } from '../../../src/sandbox/quickbooks/companyFile';
import { startQuickBooksSandbox } from '../../../src/sandbox/quickbooks/server';
import { httpCompanyFileProcessor } from '../../../src/sandbox/webConnector/companyFileProcessor';

const msg = (body: string) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRq onError="continueOnError">${body}</QBXMLMsgsRq></QBXML>`;
const adds = Array.from(
  { length: 6 },
  (_, i) => `<CustomerAddRq><CustomerAdd><Name>Iterated ${i}</Name></CustomerAdd></CustomerAddRq>`,
).join('');
const start = '<CustomerQueryRq iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>';
const next = (iteratorId: string) =>
  `<CustomerQueryRq iterator="Continue" iteratorID="${iteratorId}"><MaxReturned>2</MaxReturned></CustomerQueryRq>`;

function status(xml: string): { code: number; iteratorId: string | undefined } {
  const m = /<CustomerQueryRs\b[^>]*statusCode="(\d+)"/.exec(xml);
  assert.ok(m, xml);
  return { code: Number(m[1]), iteratorId: /iteratorID="([^"]+)"/.exec(xml)?.[1] };
}

function company(clock: { ms: number }, iteratorIdleMs?: number): CompanyFileSimulator {
  const file = new CompanyFileSimulator({
    name: 'iterated',
    now: () => new Date(clock.ms),
    ...(iteratorIdleMs === undefined ? {} : { iteratorIdleMs }),
  });
  file.processRequest(msg(adds));
  return file;
}

describe('QuickBooks iterators are short-lived', () => {
  it('end with the Web Connector session: a Continue in the next session is 3391', () => {
    const clock = { ms: Date.parse('2024-03-01T17:00:00Z') };
    const file = company(clock);
    const first = status(file.processRequest(msg(start)));
    assert.equal(first.code, 0);
    assert.ok(first.iteratorId);
    assert.equal(status(file.processRequest(msg(next(first.iteratorId)))).code, 0);
    file.endSession();
    const after = file.processRequest(msg(next(first.iteratorId)));
    assert.equal(status(after).code, 3391);
    assert.match(after, /The iteratorID &quot;\{[-0-9a-f]+\}&quot; is not valid\./);
  });

  it('expire after the configured idle time between pages, and not before', () => {
    const clock = { ms: Date.parse('2024-03-01T17:00:00Z') };
    const file = company(clock, 10_000);
    const first = status(file.processRequest(msg(start)));
    assert.ok(first.iteratorId);
    clock.ms += 10_000;
    assert.equal(status(file.processRequest(msg(next(first.iteratorId)))).code, 0, 'idle exactly the limit');
    clock.ms += 10_001;
    assert.equal(status(file.processRequest(msg(next(first.iteratorId)))).code, 3391, 'idle past the limit');
  });

  it('end through the HTTP sandbox when the Web Connector simulator ends its session', async () => {
    const clock = { ms: Date.parse('2024-03-01T17:00:00Z') };
    const file = company(clock);
    const sandbox = await startQuickBooksSandbox({ port: 0, companyFiles: [file] });
    try {
      const processor = httpCompanyFileProcessor(`${sandbox.url}/qbxml?companyFile=iterated`);
      const first = status(await processor(msg(start)));
      assert.ok(first.iteratorId);
      await processor.endSession?.();
      assert.equal(status(await processor(msg(next(first.iteratorId)))).code, 3391);
    } finally {
      await sandbox.close();
    }
  });
});
