import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import { companyFileStatusQuery, companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { quickbooksListRead } from '../../src/workflows/quickbooksListRead';
import { qbxmlProbe } from '../fixtures/workflows';
import { companyFileProcessor, useQuickBooksStack } from '../support/quickbooksStack';

const taskQueue = 'unreadable-answers-test';

/** A customer as entered in QuickBooks: `notes` may hold what no qbXML request of the connector ever would. */
function customerAdds(customers: { name: string; notes?: string; additionalNotes?: string[] }[]): string {
  const adds = customers
    .map(
      (c) =>
        `<CustomerAddRq><CustomerAdd><Name>${c.name}</Name>` +
        (c.notes === undefined ? '' : `<Notes>${c.notes}</Notes>`) +
        (c.additionalNotes ?? []).map((n) => `<AdditionalNotes><Note>${n}</Note></AdditionalNotes>`).join('') +
        '</CustomerAdd></CustomerAddRq>',
    )
    .join('');
  return `<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${adds}</QBXMLMsgsRq></QBXML>`;
}

function seed(file: CompanyFileSimulator, customers: Parameters<typeof customerAdds>[0]): void {
  for (let i = 0; i < customers.length; i += 50) {
    const answer = file.processRequest(customerAdds(customers.slice(i, i + 50)));
    assert.doesNotMatch(answer, /statusSeverity="Error"/, 'seeded');
  }
}

/** `count` customers whose notes weigh `megabytesEach` in qbXML each. */
function heavyCustomers(count: number, megabytesEach: number): Parameters<typeof customerAdds>[0] {
  const notesEach = Math.ceil((megabytesEach * 1024 * 1024) / 4000);
  return Array.from({ length: count }, (_, i) => ({
    name: `Heavy ${String(i).padStart(3, '0')}`,
    additionalNotes: Array.from({ length: notesEach }, (_, n) => `${n} `.padEnd(4000, 'call notes ')),
  }));
}

/** The `MaxReturned` of each customer read, and whether it started the iterator or went on with it. */
const pagesAsked = (reads: string[]): string[] =>
  reads.map((xml) => {
    const query = /<CustomerQueryRq[^>]*>[\s\S]*?<\/CustomerQueryRq>/.exec(xml)?.[0] ?? '';
    const page = /<MaxReturned>(\d+)<\/MaxReturned>/.exec(query)?.[1] ?? '-';
    return `${/iterator="Continue"/.test(query) ? 'Continue' : 'Start'} ${page}`;
  });

describe('an answer QuickBooks gives that cannot be read (real Temporal, gateway, Web Connector simulator)', () => {
  const suite = useQuickBooksStack(taskQueue, { callTimeoutMs: 60_000 });

  /**
   * The poll's customer read and, queued behind it, another requester's vendor query; Web Connector runs as QBWC's
   * timer would make them, at most `maxRuns`, until both are settled.
   */
  async function pollAgainst(file: CompanyFileSimulator, maxRuns = 8) {
    const customerReads: string[] = [];
    const connector = suite.stack.connector(
      'west',
      companyFileProcessor(file, async (xml) => {
        if (xml.includes('<CustomerQueryRq')) customerReads.push(xml);
      }),
    );
    const id = `${file.name}-${Date.now()}`;
    const poll = await suite.env.client.workflow.start(quickbooksListRead, {
      workflowId: `poll-read-${id}`,
      taskQueue,
      args: [{ connection: 'west', list: 'Customer', pageSize: 100 }],
    });
    const other = await suite.env.client.workflow.start(qbxmlProbe, {
      workflowId: `vendors-${id}`,
      taskQueue,
      args: ['west', [{ type: 'VendorQuery', requestId: 'v', maxReturned: 5 }]],
    });
    const polled = poll.result().then(
      (value) => ({ finished: 'completed' as const, value }),
      (error: unknown) => ({ finished: 'failed' as const, error }),
    );
    let settled = false;
    const both = Promise.all([polled, other.result()]).finally(() => {
      settled = true;
    });
    const outcomes = [];
    for (let run = 0; run < maxRuns && !settled; run++) {
      outcomes.push((await connector.runSession()).outcome);
      await Promise.race([both, new Promise((resolve) => setTimeout(resolve, 300))]);
    }
    assert.ok(settled, `the poll and the other requester finished within ${maxRuns} runs: ${outcomes.join(', ')}`);
    const [pollOutcome, [vendors]] = await both;
    const status = await suite.env.client.workflow
      .getHandle(companyFileWorkflowId('west'))
      .query(companyFileStatusQuery);
    return { pollOutcome, vendors, status, customerReads };
  }

  function assertRejected(result: Awaited<ReturnType<typeof pollAgainst>>, reason: RegExp, expectedReads = 3): void {
    assert.equal(result.pollOutcome.finished, 'failed', 'the poll finished, as a failure');
    const error = result.pollOutcome.finished === 'failed' ? result.pollOutcome.error : undefined;
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause;
    assert.equal(cause?.name, 'ApplicationFailure');
    assert.match(cause?.message ?? '', /QuickBooks refused the request \(unreadable-response: /);
    assert.match(cause?.message ?? '', reason);
    assert.equal(result.customerReads.length, expectedReads, 'asked again until it had three unreadable answers');
    assert.equal(result.vendors?.kind, 'response', 'the request queued behind it was answered');
    assert.deepEqual({ queued: result.status.queued, inFlight: result.status.inFlight }, { queued: 0, inFlight: 0 });
  }

  it('a note holding &#11;: three unreadable answers in a row, then the queue is empty and the poll finished', async () => {
    const file = new CompanyFileSimulator({ name: 'vt-reference' });
    seed(file, [{ name: 'Plain' }, { name: 'Pasted from Word', notes: 'first line&#11;second line' }]);
    assertRejected(await pollAgainst(file), /answered 3 times, and the answer could not be read: .*&#11;/);
  });

  it('a note holding a raw vertical tab: the same', async () => {
    const file = new CompanyFileSimulator({ name: 'vt-raw', controlCharacters: 'raw' });
    seed(file, [{ name: 'Pasted from Word', notes: 'first line&#11;second line' }]);
    assertRejected(await pollAgainst(file), /answered 3 times, and the answer could not be read: .*character XML/);
  });

  it('an answer over 10 MB: the same, its page halved each time it came back alone', async () => {
    const file = new CompanyFileSimulator({ name: 'over-10mb' });
    // One customer over 10 MB: whatever the page, its answer is over the gateway's body limit.
    seed(file, heavyCustomers(1, 10.5));
    const result = await pollAgainst(file);
    // The first message also held the vendor query, and nothing tells which answer made it too large: both are sent
    // again alone, uncounted, and only the customer read's own three oversized answers reject it.
    assertRejected(result, /larger than 10485760 bytes/, 4);
    assert.deepEqual(pagesAsked(result.customerReads), ['Start 100', 'Start 100', 'Start 50', 'Start 25']);
  });

  it('a record whose Update would be over 2 MB on its own: rejected after three answers, pages halved', async () => {
    const file = new CompanyFileSimulator({ name: 'over-2mb' });
    seed(file, [{ name: 'Plain' }, ...heavyCustomers(1, 2.5)]);
    const result = await pollAgainst(file);
    // The gateway names the answer too large for an Update: it counts at once, beside the vendor query.
    assertRejected(result, /more than one Update may carry/, 3);
    assert.deepEqual(pagesAsked(result.customerReads), ['Start 100', 'Start 50', 'Start 25']);
  });

  it('a page of large records over one Update: asked again for half the page, and read whole in pages of that size', async () => {
    const file = new CompanyFileSimulator({ name: 'page-over-update' });
    // 60 customers of 27 KB: a page of 100 brings back all of them, 1.7 MB, over the 1.5 MB an Update may carry; 50 fit.
    seed(file, heavyCustomers(60, 0.026));
    const result = await pollAgainst(file);
    assert.equal(result.pollOutcome.finished, 'completed', 'the read finished');
    const read = result.pollOutcome.finished === 'completed' ? result.pollOutcome.value : undefined;
    assert.deepEqual(
      read?.records.map((r) => ('name' in r ? r.name : '')),
      heavyCustomers(60, 0.026).map((c) => c.name),
      'every customer read, once',
    );
    // The gateway named the answer too large for an Update, so it was asked again for half the page at once; the
    // iterator's next page repeats its start's size.
    assert.deepEqual(pagesAsked(result.customerReads), ['Start 100', 'Start 50', 'Continue 50']);
    assert.equal(result.vendors?.kind, 'response', 'the request queued behind it was answered');
    assert.deepEqual({ queued: result.status.queued, inFlight: result.status.inFlight }, { queued: 0, inFlight: 0 });
  });
});
