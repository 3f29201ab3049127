import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import express from 'express';
import fc from 'fast-check';
import pino from 'pino';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { EncryptedPayloadCodec } from '../../src/codec/payloadCodec';
import { createGatewayApp } from '../../src/gateway/app';
import { codecRouter } from '../../src/gateway/codec/codecRouter';
import { AuthenticationGuard } from '../../src/gateway/qbwc/authenticationGuard';
import { hashPassword } from '../../src/config/qbwcPassword';
import { createQbwcService } from '../../src/gateway/qbwc/service';
import { createSoapEndpoint } from '../../src/gateway/qbwc/soapEndpoint';
import { TicketAuthority } from '../../src/gateway/qbwc/tickets';
import { dataverseWebhookRouter } from '../../src/gateway/webhooks/dataverseWebhook';
import { Registry } from 'prom-client';
import { QbxmlSyntaxError } from '../../src/qbxml/errors';
import { parseQbxmlResponse } from '../../src/qbxml/parse';

/**
 * Property-based fuzzing of the public edge: the QBWC SOAP endpoint, the qbXML response parser, the Dataverse webhook
 * (its RemoteExecutionContext parser behind authentication) and the codec endpoint. Inputs are the real wire samples,
 * mutated (bytes flipped, markup inserted, ranges deleted, repeated or cut). Every answer must be well-formed handling
 * (a SOAP answer, a SOAP Fault or a 4xx), nothing may reach a workflow that should not, nothing may crash, and answers
 * slower than `slowMs` are reported.
 */

export interface FuzzFinding {
  target: string;
  kind: 'crash' | 'server-error' | 'wrong-answer' | 'queued' | 'slow';
  detail: string;
  /** The input's first 300 characters, to reproduce with the seed. */
  input: string;
}

export interface FuzzTargetReport {
  target: string;
  runs: number;
  maxMs: number;
  p99Ms: number;
  findings: number;
}

export interface FuzzReport {
  seed: number;
  runsPerTarget: number;
  slowMs: number;
  targets: FuzzTargetReport[];
  findings: FuzzFinding[];
}

const samples = join(__dirname, '..', 'fixtures', 'samples');
const sample = (path: string): string => readFileSync(join(samples, path), 'utf8');

type Mutation =
  | { kind: 'flip'; at: number; code: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'truncate'; at: number };

/** Fragments that have broken XML and JSON readers before: markup, entities, nesting, odd characters. */
const hostileFragments = [
  '<',
  '>',
  '&',
  '&amp;',
  '&#0;',
  '&#x110000;',
  '&lt;',
  ']]>',
  '<![CDATA[',
  '<!--',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>',
  '&a;',
  '<a>'.repeat(64),
  '<b/>'.repeat(200),
  ` ${Array.from({ length: 100 }, (_, i) => `a${i}="1"`).join(' ')}`,
  '"',
  "'",
  '\u0000',
  '\uFFFE',
  '\uD800',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  'null',
  '"__proto__":{"x":1},',
  '{"constructor":{"prototype":{"x":1}}}',
  '1e999999',
  '-0',
  '"\\u0000"',
  '</soap:Body>',
  '<soap:Body>',
  '<ticket>',
  '</ticket>',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), code: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...hostileFragments), fc.string({ maxLength: 24 })),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 32 }),
    times: fc.integer({ min: 2, max: 3000 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(seed: string, mutations: readonly Mutation[]): string {
  let text = seed;
  for (const m of mutations) {
    const at = text.length === 0 ? 0 : m.at % (text.length + 1);
    switch (m.kind) {
      case 'flip':
        text = text.slice(0, at) + String.fromCharCode(m.code) + text.slice(at + 1);
        break;
      case 'insert':
        text = text.slice(0, at) + m.text + text.slice(at);
        break;
      case 'delete':
        text = text.slice(0, at) + text.slice(at + m.length);
        break;
      case 'repeat':
        text = text.slice(0, at) + text.slice(at, at + m.length).repeat(m.times) + text.slice(at);
        break;
      case 'truncate':
        text = text.slice(0, at);
        break;
    }
  }
  return text;
}

/** A seed, unchanged (about one run in ten, so the well-formed path is exercised too) or mutated. */
function mutated(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 0, maxLength: 6 }))
    .map(([seed, ms]) => mutate(seed, ms));
}

interface Target {
  name: string;
  inputs: fc.Arbitrary<string>;
  /** Runs one input; returns the problems it showed (none = handled). */
  run(input: string): Promise<Array<Omit<FuzzFinding, 'target' | 'input'>>>;
}

const silent = pino({ level: 'silent' });

function envelope(method: string, params: Record<string, string | number>): string {
  const escape = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const children = Object.entries(params)
    .map(([k, v]) => `<${k}>${escape(String(v))}</${k}>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soap:Body><${method} xmlns="http://developer.intuit.com/">${children}</${method}></soap:Body></soap:Envelope>`
  );
}

async function listen(app: express.Express): Promise<{ url: string; server: Server }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { error: error instanceof Error ? `${error.message} ${String(error.cause ?? '')}` : String(error) };
  }
}

/** QBWC endpoint with the real service; the Temporal client is a recorder: any call to it would be work queued. */
async function soapTarget(servers: Server[]): Promise<Target> {
  const calls: string[] = [];
  const handle = {
    executeUpdate: () => {
      calls.push('executeUpdate');
      return Promise.resolve(0);
    },
    query: () => {
      calls.push('query');
      return Promise.resolve('');
    },
  };
  const client = {
    workflow: {
      getHandle: () => handle,
      executeUpdateWithStart: () => {
        calls.push('executeUpdateWithStart');
        return Promise.resolve('none');
      },
    },
    withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
  } as unknown as Client;
  const tickets = new TicketAuthority(randomBytes(32));
  const service = createQbwcService({
    client,
    taskQueue: 'fuzz',
    log: silent,
    tickets,
    // Real scrypt costs, few of them: the guard backs the fuzzer's address off like any guesser's.
    authentication: new AuthenticationGuard(),
    connections: () => [
      { name: 'east', userName: 'qb-east', passwordHash: eastHash },
      { name: 'west', userName: 'qb-west', passwordHash: eastHash },
    ],
  });
  const qbwc = await createSoapEndpoint({ service, publicUrl: 'http://127.0.0.1/qbwc', log: silent, tickets });
  const { url, server } = await listen(createGatewayApp({ qbwc, registry: new Registry() }));
  servers.push(server);
  // Tickets signed under another key look exactly like real ones: the gateway must still refuse them.
  const forged = new TicketAuthority(randomBytes(32)).mint('east');
  const seeds = [
    envelope('authenticate', { strUserName: 'qb-east', strPassword: 'not-the-password' }),
    envelope('sendRequestXML', {
      ticket: forged,
      strHCPResponse: '',
      strCompanyFileName: 'C:\\east.qbw',
      qbXMLCountry: 'US',
      qbXMLMajorVers: 13,
      qbXMLMinorVers: 0,
    }),
    envelope('receiveResponseXML', { ticket: forged, response: sample('qbxml/customer-query-rs.from-qbwc-log.xml') }),
    sample('qbxml/item-inventory-query-rs-status1-nomatch.soap.xml'),
    envelope('connectionError', { ticket: forged, hresult: '0x80040400', message: 'QuickBooks found an error' }),
    envelope('getLastError', { ticket: forged }),
    envelope('closeConnection', { ticket: forged }),
    envelope('clientVersion', { strVersion: '2.3.0.215' }),
    envelope('serverVersion', {}),
  ];
  return {
    name: 'qbwc-soap-endpoint',
    inputs: mutated(seeds),
    async run(input) {
      const before = calls.length;
      const answer = await post(`${url}/qbwc`, input, { 'Content-Type': 'text/xml; charset=utf-8' });
      const problems: Array<Omit<FuzzFinding, 'target' | 'input'>> = [];
      if ('error' in answer) return [{ kind: 'crash', detail: answer.error }];
      const fault = /<soap:Fault>/.test(answer.text);
      if (answer.status === 200 && !/Response[ >]/.test(answer.text)) {
        problems.push({ kind: 'wrong-answer', detail: `200 without a SOAP response: ${answer.text.slice(0, 120)}` });
      } else if (answer.status >= 500 && !fault) {
        problems.push({ kind: 'server-error', detail: `${answer.status}: ${answer.text.slice(0, 120)}` });
      } else if (answer.status !== 200 && answer.status < 400) {
        problems.push({ kind: 'wrong-answer', detail: `status ${answer.status}` });
      }
      if (calls.length !== before) problems.push({ kind: 'queued', detail: calls.slice(before).join(', ') });
      return problems;
    },
  };
}

function qbxmlParserTarget(): Target {
  const soapSample = sample('qbxml/item-inventory-query-rs-status1-nomatch.soap.xml');
  const inner = /<response>([\s\S]*)<\/response>/.exec(soapSample)?.[1]?.trim() ?? '';
  const seeds = [sample('qbxml/customer-query-rs.from-qbwc-log.xml'), inner];
  return {
    name: 'qbxml-response-parser',
    inputs: mutated(seeds),
    run(input) {
      try {
        parseQbxmlResponse(input);
        return Promise.resolve([]);
      } catch (error) {
        if (error instanceof QbxmlSyntaxError) return Promise.resolve([]);
        return Promise.resolve([
          { kind: 'crash', detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
        ]);
      }
    },
  };
}

/** The webhook receiver with a valid key: the RemoteExecutionContext parser sees every mutated body. */
async function webhookTarget(servers: Server[]): Promise<Target> {
  const started: string[] = [];
  const key = 'fuzzing-webhook-key-0123456789';
  const webhooks = dataverseWebhookRouter({
    log: silent,
    tag: 'qbsync',
    resolveConnection: (name) => (name === 'east' ? { name: 'east', auth: { kind: 'WebhookKey', key } } : undefined),
    startRecordSync: (change) => {
      started.push(change.id);
      return Promise.resolve({ workflowId: `d365/${change.entity}/${change.id}` });
    },
  });
  const app = express();
  app.use(webhooks);
  const { url, server } = await listen(app);
  servers.push(server);
  const contact = sample('dataverse/webhook-contact-update.json');
  const seeds = [contact, contact.replace(/"contact"/g, '"account"'), JSON.stringify(JSON.parse(contact))];
  return {
    name: 'dataverse-webhook',
    inputs: mutated(seeds),
    async run(input) {
      const before = started.length;
      const answer = await post(`${url}/webhooks/dataverse/east?code=${key}`, input, {
        'Content-Type': 'application/json',
      });
      if ('error' in answer) return [{ kind: 'crash', detail: answer.error }];
      const queued = started.length - before;
      if (answer.status >= 500)
        return [{ kind: 'server-error', detail: `${answer.status}: ${answer.text.slice(0, 120)}` }];
      if (answer.status === 202) {
        const expected = /"workflowId"/.test(answer.text) ? 1 : 0;
        return queued === expected ? [] : [{ kind: 'queued', detail: `202 with ${queued} record syncs signalled` }];
      }
      if (answer.status >= 400 && answer.status < 500) {
        return queued === 0 ? [] : [{ kind: 'queued', detail: `${answer.status} but a record sync was signalled` }];
      }
      return [{ kind: 'wrong-answer', detail: `status ${answer.status}` }];
    },
  };
}

async function codecTarget(servers: Server[]): Promise<Target> {
  const codec = new EncryptedPayloadCodec(new PayloadKeyRing('fuzz', [['fuzz', randomBytes(32)]]));
  const bearerToken = randomBytes(24).toString('base64url');
  const app = express();
  app.use(codecRouter({ codec, access: { bearerToken }, uiOrigins: [], log: silent }));
  const { url, server } = await listen(app);
  servers.push(server);
  const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });
  const plain = [defaultPayloadConverter.toPayload({ customer: 'Smith & Sons', balance: '12.50' })];
  const sealed = await codec.encode(plain);
  const seeds = [
    `decode ${JSON.stringify({ payloads: sealed.map(toJson) })}`,
    `encode ${JSON.stringify({ payloads: plain.map(toJson) })}`,
    `decode ${JSON.stringify({ payloads: plain.map(toJson) })}`,
  ];
  return {
    name: 'codec-endpoint',
    inputs: mutated(seeds),
    async run(input) {
      const direction = input.startsWith('encode ') ? 'encode' : 'decode';
      const body = input.replace(/^(en|de)code /, '');
      const answer = await post(`${url}/codec/${direction}`, body, {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${bearerToken}`,
      });
      if ('error' in answer) return [{ kind: 'crash', detail: answer.error }];
      if (answer.status === 200 || (answer.status >= 400 && answer.status < 500)) return [];
      return [{ kind: answer.status >= 500 ? 'server-error' : 'wrong-answer', detail: `status ${answer.status}` }];
    },
  };
}

let eastHash = '';

export interface FuzzOptions {
  runs: number;
  seed?: number;
  slowMs?: number;
  /** Called after each target, for progress on long runs. */
  progress?: (report: FuzzTargetReport) => void;
}

export async function runEdgeFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const slowMs = options.slowMs ?? 1_000;
  eastHash ||= await hashPassword('the-right-password-of-east');
  const servers: Server[] = [];
  const findings: FuzzFinding[] = [];
  const reports: FuzzTargetReport[] = [];
  const crashes: string[] = [];
  const onCrash = (error: unknown): void => {
    crashes.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    const targets = [
      await soapTarget(servers),
      qbxmlParserTarget(),
      await webhookTarget(servers),
      await codecTarget(servers),
    ];
    for (const target of targets) {
      const durations: number[] = [];
      const before = findings.length;
      await fc.check(
        fc.asyncProperty(target.inputs, async (input) => {
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          const problems = await target.run(input);
          const elapsed = performance.now() - started;
          durations.push(elapsed);
          if (elapsed > slowMs) {
            // The CPU this process used meanwhile (every thread: the handler, the client, scrypt in the thread pool)
            // tells a slow path (CPU close to the wall time) from a machine too loaded to run us (CPU far below it).
            const cpu = process.cpuUsage(cpuBefore);
            const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
            problems.push({
              kind: 'slow',
              detail: `${Math.round(elapsed)} ms, ${cpuMs} ms of it on this process's CPU`,
            });
          }
          for (const crash of crashes.splice(0)) problems.push({ kind: 'crash', detail: crash });
          for (const problem of problems)
            findings.push({ target: target.name, input: input.slice(0, 300), ...problem });
          return true;
        }),
        { numRuns: options.runs, seed, endOnFailure: true },
      );
      durations.sort((a, b) => a - b);
      const report = {
        target: target.name,
        runs: durations.length,
        maxMs: Math.round((durations.at(-1) ?? 0) * 10) / 10,
        p99Ms: Math.round((durations[Math.floor(durations.length * 0.99)] ?? 0) * 10) / 10,
        findings: findings.length - before,
      };
      reports.push(report);
      options.progress?.(report);
    }
  } finally {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  return { seed, runsPerTarget: options.runs, slowMs, targets: reports, findings };
}
