import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { XMLParser } from 'fast-xml-parser';
import { createQbwcService } from '../../src/gateway/qbwc/service';
import { TicketAuthority } from '../../src/gateway/qbwc/tickets';
import { companyFileStatusQuery, companyFileWorkflowId } from '../../src/workflows/companyFile/messages';
import { quickbooksListRead } from '../../src/workflows/quickbooksListRead';
import { silentLog, startGatewayStack, testTicketAuthority, type GatewayStack } from '../support/gateway';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false });

function result(text: string, method: string): unknown {
  const doc = parser.parse(text) as { Envelope: { Body: Record<string, Record<string, unknown>> } };
  return doc.Envelope.Body[`${method}Response`]?.[`${method}Result`];
}

/** Tickets an attacker can make: the old unsigned shape, altered genuine ones, one signed under another key. */
function forgeries(genuine: string, count: number): string[] {
  const [connection, issued, nonce, mac] = genuine.split('~') as [string, string, string, string];
  const flip = (text: string, at: number): string =>
    text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  const stranger = new TicketAuthority(randomBytes(32));
  const shapes = (i: number): string => {
    switch (i % 7) {
      case 0:
        return `${connection}~${randomBytes(24).toString('base64url')}`;
      case 1:
        return `${connection}~${issued}~${nonce}~${flip(mac, i % mac.length)}`;
      case 2:
        return `${connection}~${issued}~${flip(nonce, i % nonce.length)}~${mac}`;
      case 3:
        return stranger.mint(connection);
      case 4:
        return `west~${issued}~${nonce}~${mac}`;
      case 5:
        return `${connection}~${(Number.parseInt(issued, 36) + 1).toString(36)}~${nonce}~${mac}`;
      default:
        return `${connection}~${issued}~${randomBytes(16).toString('base64url')}~${randomBytes(16).toString('base64url')}`;
    }
  };
  return Array.from({ length: count }, (_, i) => shapes(i));
}

const forgedCalls: Array<[method: string, params: (ticket: string) => Record<string, string | number>]> = [
  [
    'sendRequestXML',
    (ticket) => ({
      ticket,
      strHCPResponse: '',
      strCompanyFileName: '',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    }),
  ],
  ['receiveResponseXML', (ticket) => ({ ticket, response: '', hresult: '0x80040400', message: 'forged' })],
  ['connectionError', (ticket) => ({ ticket, hresult: '0x80040400', message: 'forged' })],
  ['getLastError', (ticket) => ({ ticket })],
  ['closeConnection', (ticket) => ({ ticket })],
];

describe('forged QBWC tickets stop at the gateway', () => {
  it('refuses tickets it did not mint without one call to Temporal', async () => {
    const calls: string[] = [];
    const handle = {
      executeUpdate: (update: { name: string }) => {
        calls.push(update.name);
        return Promise.resolve(0);
      },
      query: (query: { name: string }) => {
        calls.push(query.name);
        return Promise.resolve('');
      },
    };
    const client = {
      workflow: { getHandle: () => handle },
      withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
    } as unknown as Client;
    const service = createQbwcService({
      client,
      taskQueue: 'unused',
      log: silentLog,
      tickets: testTicketAuthority,
      connections: () => [{ name: 'east', userName: 'qb-east', passwordHash: 'scrypt$x$y' }],
    });
    const genuine = testTicketAuthority.mint('east');
    for (const ticket of forgeries(genuine, 100)) {
      assert.deepEqual(await service.sendRequestXML({ ticket }), { sendRequestXMLResult: '' });
      assert.deepEqual(await service.receiveResponseXML({ ticket, response: '' }), { receiveResponseXMLResult: -1 });
      await service.connectionError({ ticket, hresult: 'x', message: 'y' });
      await service.getLastError({ ticket });
      await service.closeConnection({ ticket });
    }
    assert.deepEqual(calls, []);
    // The genuine ticket does reach the workflow: the check refuses forgeries, not everything.
    await service.getLastError({ ticket: genuine });
    assert.equal(calls.length, 1);
  });

  it('refuses a ticket whose MAC differs from the minted one only in the padding bits of its last character', () => {
    // 16 bytes are 22 base64url characters; the last one carries 4 bits that no byte uses, so a lenient decoder
    // reads several spellings as the same MAC. Only the spelling the gateway minted is its ticket.
    const authority = new TicketAuthority(randomBytes(32));
    const genuine = authority.mint('east');
    const last = genuine.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const base = alphabet.indexOf(last) & ~0b1111;
    const sameBytes = [...alphabet.slice(base, base + 16)].filter((c) => c !== last);
    assert.equal(sameBytes.length, 15);
    for (const c of sameBytes) {
      const respelled = `${genuine.slice(0, -1)}${c}`;
      assert.ok(
        Buffer.from(respelled.split('~')[3]!, 'base64url').equals(Buffer.from(genuine.split('~')[3]!, 'base64url')),
      );
      assert.equal(authority.verify(respelled), undefined, `respelled MAC ${c} refused`);
    }
    assert.equal(authority.verify(genuine)?.connection, 'east');
  });

  it('refuses a genuine ticket once it is older than the ticket lifetime', () => {
    let now = Date.UTC(2026, 0, 1);
    const authority = new TicketAuthority(randomBytes(32), [], { lifetimeMs: 60_000, now: () => now });
    const ticket = authority.mint('east');
    assert.equal(authority.verify(ticket)?.connection, 'east');
    now += 61_000;
    assert.equal(authority.verify(ticket), undefined);
  });

  it('verifies tickets minted under a key the ring has since rotated away from', () => {
    const older = randomBytes(32);
    const before = new TicketAuthority(older);
    const after = new TicketAuthority(randomBytes(32), [older]);
    const ticket = before.mint('east');
    assert.equal(after.verify(ticket)?.connection, 'east');
    assert.equal(before.verify(after.mint('east')), undefined);
  });
});

describe('100 forged calls while a real session runs (real Temporal)', () => {
  let stack: GatewayStack;

  before(async () => {
    stack = await startGatewayStack('forged-tickets-test');
  });
  after(async () => {
    await stack.close();
  });

  it('add no event to the company file history, and the real session completes', async () => {
    const { env } = stack;
    const read = await env.client.workflow.start(quickbooksListRead, {
      workflowId: 'forged-read-east-customers',
      taskQueue: 'forged-tickets-test',
      args: [{ connection: 'east', list: 'Customer', pageSize: 50 }],
    });
    const fileHandle = env.client.workflow.getHandle(companyFileWorkflowId('east'));
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fileHandle.query(companyFileStatusQuery)).queued > 0) break;
      } catch {
        /* not started yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const auth = await stack.call('authenticate', { strUserName: 'qb-east', strPassword: 'east-pass' });
    const [ticket] = (result(auth.text, 'authenticate') as { string: string[] }).string as [string];
    const eventsBefore = (await fileHandle.fetchHistory()).events?.length ?? 0;

    const forged = forgeries(ticket, 100).map(async (fake, i) => {
      const [method, params] = forgedCalls[i % forgedCalls.length]!;
      const res = await stack.call(method, params(fake));
      assert.equal(res.status, 200, res.text);
      if (method === 'sendRequestXML') assert.equal(result(res.text, method) ?? '', '');
      if (method === 'receiveResponseXML') assert.equal(Number(result(res.text, method)), -1);
    });
    const realSession = (async () => {
      const send = await stack.call('sendRequestXML', forgedCalls[0]![1](ticket));
      const requestId = /requestID="([^"]+)"/.exec(String(result(send.text, 'sendRequestXML')))?.[1];
      assert.ok(requestId, send.text);
      const response =
        '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs>' +
        `<CustomerQueryRs requestID="${requestId}" statusCode="0" statusSeverity="Info" statusMessage="Status OK" iteratorRemainingCount="0" iteratorID="{abc}">` +
        '<CustomerRet><ListID>80000001-1446676743</ListID><TimeCreated>2015-11-04T14:39:03-08:00</TimeCreated><TimeModified>2015-11-04T14:39:03-08:00</TimeModified>' +
        '<EditSequence>1446676743</EditSequence><Name>Forge Works</Name><FullName>Forge Works</FullName><IsActive>true</IsActive><Sublevel>0</Sublevel>' +
        '<Balance>0.00</Balance><TotalBalance>0.00</TotalBalance><JobStatus>None</JobStatus></CustomerRet>' +
        '</CustomerQueryRs></QBXMLMsgsRs></QBXML>';
      const recv = await stack.call('receiveResponseXML', { ticket, response, hresult: '', message: '' });
      assert.equal(Number(result(recv.text, 'receiveResponseXML')), 100);
    })();
    await Promise.all([...forged, realSession]);

    // Every Update accepted after authenticate is one of the real session's two calls.
    const events = (await fileHandle.fetchHistory()).events ?? [];
    const accepted = events.slice(eventsBefore).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    assert.equal(accepted.length, 2, `accepted updates after authenticate: ${accepted.length}`);

    const close = await stack.call('closeConnection', { ticket });
    assert.equal(result(close.text, 'closeConnection'), 'OK');
    const records = (await read.result()).records as Array<{ name?: string }>;
    assert.deepEqual(
      records.map((r) => r.name),
      ['Forge Works'],
    );
  });
});
