import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { CompanyFileSimulator, type CompanyFileOptions } from '../../src/sandbox/quickbooks/companyFile';
import {
  WebConnectorSimulator,
  type WebConnectorSimulatorOptions,
  type WebConnectorRunReport,
} from '../../src/sandbox/webConnector/webConnectorSimulator';
import type { CompanyFileProcessor } from '../../src/sandbox/webConnector/companyFileProcessor';
import { startTestGateway, type TestGateway } from './gateway';
import { startTestTemporal } from './temporal';

export async function startFixtureWorker(env: TestWorkflowEnvironment, taskQueue: string): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../fixtures/workflows'),
    activities: createActivities({ client: env.client, taskQueue }),
  });
}

export function customerAddXml(names: string[]): string {
  const adds = names
    .map(
      (n, i) =>
        `<CustomerAddRq requestID="seed-${i}"><CustomerAdd><Name>${n.replace(/&/g, '&amp;')}</Name></CustomerAdd></CustomerAddRq>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">${adds}</QBXMLMsgsRq></QBXML>`;
}

/** QuickBooks behind QBWC: each request processed by the simulated company file, which QBWC closes after a run. */
export function companyFileProcessor(
  file: CompanyFileSimulator,
  afterProcess?: (requestXml: string) => Promise<void>,
  beforeProcess?: (requestXml: string) => Promise<void>,
): CompanyFileProcessor {
  const process = async (xml: string): Promise<string> => {
    if (beforeProcess) await beforeProcess(xml);
    const response = file.processRequest(xml);
    if (afterProcess) await afterProcess(xml);
    return response;
  };
  return Object.assign(process, { endSession: () => file.endSession() });
}

export interface QuickBooksStack {
  gateway: TestGateway;
  files: Record<string, CompanyFileSimulator>;
  /** A Web Connector for file `name`; `timing` overrides its NoOp pause (50 ms) and taps its events. */
  connector(
    name: string,
    processor?: CompanyFileProcessor,
    timing?: Pick<WebConnectorSimulatorOptions, 'noOpWaitMs' | 'log'>,
  ): WebConnectorSimulator;
}

/** Each company file's Web Connector password: `<name>-password`. */
const passwordOf = (name: string): string => `${name}-password`;

export async function startQuickBooksStack(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  options: {
    callTimeoutMs?: number;
    /** Per company file: its clock, zone and offsets (the gateway's connection gets the same zone). */
    files?: Record<string, Omit<CompanyFileOptions, 'name'>>;
    /** The company files, each a gateway connection of its name; `east` and `west` unless given. */
    companyFiles?: readonly string[];
  } = {},
): Promise<QuickBooksStack> {
  const passwords = Object.fromEntries((options.companyFiles ?? ['east', 'west']).map((n) => [n, passwordOf(n)]));
  const timeZones: Record<string, string> = {};
  for (const [name, file] of Object.entries(options.files ?? {})) if (file.timeZone) timeZones[name] = file.timeZone;
  const gateway = await startTestGateway(env.client, taskQueue, passwords, { ...options, timeZones });
  const files: Record<string, CompanyFileSimulator> = {};
  for (const name of Object.keys(passwords)) {
    files[name] = new CompanyFileSimulator({ name, ...options.files?.[name] });
  }
  return {
    gateway,
    files,
    connector: (name, processor, timing) =>
      new WebConnectorSimulator({
        qwc: {
          appName: `test ${name}`,
          appUrl: gateway.qbwcUrl,
          appDescription: 'test',
          appSupport: `${gateway.url}/healthz`,
          userName: `qb-${name}`,
          ownerId: '{57F3B9B1-86F1-4fcc-B1EE-566DE1813D20}',
          fileId: '{90A44FB5-33D9-4815-AC85-BC87A7E7D1EB}',
          qbType: 'QBFS',
          isReadOnly: false,
          runEveryNSeconds: 1,
        },
        password: passwordOf(name),
        companyFilePath: `C:\\QuickBooks\\${name}.qbw`,
        processor: processor ?? companyFileProcessor(files[name]!),
        noOpWaitMs: 50,
        ...timing,
      }),
  };
}

/** Runs Web Connector sessions, as QBWC's timer would, until `done` settles. */
export async function driveSessions<T>(
  connector: WebConnectorSimulator,
  done: Promise<T>,
  reports: WebConnectorRunReport[] = [],
): Promise<T> {
  let settled = false;
  const watched = done.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < 200 && !settled; i++) {
    reports.push(await connector.runSession());
    if (!settled) await new Promise((r) => setTimeout(r, 150));
  }
  return watched;
}

export interface QuickBooksSuite {
  env: TestWorkflowEnvironment;
  stack: QuickBooksStack;
}

/**
 * A dev server, a worker of the fixture workflows and the QuickBooks stack for the enclosing describe block: started
 * before its tests and stopped after them. Its fields are set once `before` has run, so tests read them, not a copy.
 */
export function useQuickBooksStack(
  taskQueue: string,
  options: Parameters<typeof startQuickBooksStack>[2] = {},
): QuickBooksSuite {
  const suite = {} as QuickBooksSuite;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  before(async () => {
    suite.env = await startTestTemporal();
    worker = await startFixtureWorker(suite.env, taskQueue);
    running = worker.run();
    suite.stack = await startQuickBooksStack(suite.env, taskQueue, options);
  });
  after(async () => {
    await suite.stack?.gateway.close();
    worker?.shutdown();
    await running;
    await suite.env?.teardown();
  });
  return suite;
}
