import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import { createSoapEndpoint } from '../../../src/gateway/qbwc/soapEndpoint';
import { type QbwcService } from '../../../src/gateway/qbwc/service';
import { TicketAuthority } from '../../../src/gateway/qbwc/tickets';
import { logger } from '../../../src/observability/logger';
import { WebConnectorSimulator } from '../../../src/sandbox/webConnector/webConnectorSimulator';

/**
 * The simulator against the gateway's real SOAP layer (the `soap` package), with the Temporal-backed callbacks
 * replaced by a script: proves both sides agree on the wire, not just each side against hand-written XML.
 */
describe('simulator ⇄ gateway SOAP endpoint', () => {
  let server: Server;
  let appUrl = '';
  const seen: { method: string; args: Record<string, unknown> }[] = [];
  const requests = [
    '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError"><CustomerQueryRq requestID="1"><FullName>Tom &amp; Jerry</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>',
    '',
  ];
  let authSlots = ['TICKET-X', '', '', ''];

  const answer = <T>(method: string, args: unknown, result: T): T => {
    seen.push({ method, args: typeof args === 'object' && args !== null ? { ...args } : {} });
    return result;
  };
  const service: QbwcService = {
    serverVersion: async () => ({ serverVersionResult: '1.0' }),
    clientVersion: async (args) => answer('clientVersion', args, { clientVersionResult: '' }),
    authenticate: async (args) => answer('authenticate', args, { authenticateResult: { string: authSlots } }),
    sendRequestXML: async (args) => answer('sendRequestXML', args, { sendRequestXMLResult: requests.shift() ?? '' }),
    receiveResponseXML: async (args) => answer('receiveResponseXML', args, { receiveResponseXMLResult: 100 }),
    connectionError: async (args) => answer('connectionError', args, { connectionErrorResult: 'done' }),
    getLastError: async (args) => answer('getLastError', args, { getLastErrorResult: '' }),
    closeConnection: async (args) => answer('closeConnection', args, { closeConnectionResult: 'OK' }),
  };

  before(async () => {
    const app = express();
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/qbwc`;
    // The fake service hands out its own tickets, so none is current to the endpoint: bodies stay under 64 KB.
    app.use(
      await createSoapEndpoint({
        service,
        publicUrl: appUrl,
        log: logger,
        tickets: new TicketAuthority(randomBytes(32)),
      }),
    );
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const simulator = (processor: (q: string) => Promise<string>): WebConnectorSimulator =>
    new WebConnectorSimulator({
      qwc: {
        appName: 'interop',
        appUrl,
        appDescription: '',
        appSupport: appUrl,
        userName: 'acme',
        ownerId: '{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}',
        fileId: '{57F3B9B6-86F1-4fcc-B1FF-967DE1813D20}',
        qbType: 'QBFS',
        isReadOnly: false,
      },
      password: 'secret & <pw>',
      companyFilePath: 'C:\\Acme.qbw',
      processor,
      log: () => undefined,
    });

  it('completes a round trip; arguments and the escaped qbXML survive both directions', async () => {
    const processed: string[] = [];
    const report = await simulator(async (q) => {
      processed.push(q);
      return '<?xml version="1.0" ?><QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="1" statusCode="1" statusSeverity="Info" statusMessage="A &quot;query&quot; found nothing &amp; more"/></QBXMLMsgsRs></QBXML>';
    }).runSession();
    assert.equal(report.outcome, 'completed', report.lastError);
    assert.equal(report.ticket, 'TICKET-X');
    assert.equal(report.requestsSent, 1);
    assert.deepEqual(processed, [
      '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError"><CustomerQueryRq requestID="1"><FullName>Tom &amp; Jerry</FullName></CustomerQueryRq></QBXMLMsgsRq></QBXML>',
    ]);
    const auth = seen.find((s) => s.method === 'authenticate');
    assert.equal(auth?.args.strUserName, 'acme');
    assert.equal(auth?.args.strPassword, 'secret & <pw>');
    const receive = seen.find((s) => s.method === 'receiveResponseXML');
    assert.equal(receive?.args.ticket, 'TICKET-X');
    assert.match(String(receive?.args.response), /statusMessage="A &quot;query&quot; found nothing &amp; more"/);
    const send = seen.find((s) => s.method === 'sendRequestXML');
    assert.equal(String(send?.args.qbXMLMajorVers), '16');
    assert.match(String(send?.args.strHCPResponse), /<HostQueryRs /);
  });

  it('reads an authenticate array with empty slots as the gateway serializes it', async () => {
    authSlots = ['', 'nvu', '', ''];
    const report = await simulator(async () => '').runSession();
    assert.equal(report.outcome, 'invalidUser');
    authSlots = ['TICKET-Y', 'none', '', ''];
    assert.equal((await simulator(async () => '').runSession()).outcome, 'noWork');
  });
});
