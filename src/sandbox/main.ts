import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectionsFilePath, type ConnectionConfig } from '../config/connections';
import { runtime } from '../config/runtime';
import { SecretStore } from '../config/secrets';
import { hashPassword } from '../config/qbwcPassword';
import { buildQwcFile, deterministicGuid } from '../gateway/qbwc/qwcFile';
import { logger } from '../observability/logger';
import { CompanyFileSimulator } from './quickbooks/companyFile';
import { seedDemoCompany } from './quickbooks/demoCompany';
import { startQuickBooksSandbox, type QuickBooksSandbox } from './quickbooks/server';
import { startDataverseSandbox, type DataverseSandbox, type DataverseSandboxOptions } from './dataverse/server';
import { connectorWebhookTables } from '../dataverse/connectorWebhook';

/**
 * `npm start` without real systems: the QuickBooks sandbox (two regional company files) and the Dataverse sandbox,
 * plus the files the other processes and the operator need: connections.json (hashed QBWC passwords), one .QWC per
 * connection, and endpoints.json with every sandbox address and a `secret:` reference for each credential; the
 * credentials themselves live in the encrypted secret store (`qbsync secrets list`).
 */

const OFFICES = ['east', 'west'] as const;
/** Each office's company file keeps its own local time, as QuickBooks does on the PC that runs it. */
const OFFICE_TIME_ZONES: Record<(typeof OFFICES)[number], string> = {
  east: 'America/New_York',
  west: 'America/Los_Angeles',
};
const APP_NAMESPACE = 'qb-d365-connector';

interface SandboxSecrets {
  qbwcPasswords: Record<string, string>;
  webhookKey: string;
  dataverseClientSecret: string;
}

const secretNames = {
  qbwcPassword: (office: string) => `qbwc-password-${office}`,
  webhookKey: 'dataverse-webhook-key',
  dataverseClientSecret: 'dataverse-client-secret',
};
const reference = (name: string): string => `secret:${name}`;

/**
 * The sandbox's generated credentials, kept in the secret store. Data dirs from before the store held them in clear in
 * `sandbox/secrets.json`: those values move into the store (so running clients keep working) and the file goes.
 */
function loadOrCreateSecrets(store: SecretStore, legacyPath: string): SandboxSecrets {
  if (existsSync(legacyPath)) {
    const legacy = JSON.parse(readFileSync(legacyPath, 'utf8')) as Partial<
      Omit<SandboxSecrets, 'dataverseClientSecret'>
    >;
    for (const [office, password] of Object.entries(legacy.qbwcPasswords ?? {})) {
      store.ensure(secretNames.qbwcPassword(office), () => password);
    }
    if (legacy.webhookKey) store.ensure(secretNames.webhookKey, () => legacy.webhookKey!);
    rmSync(legacyPath);
  }
  return {
    qbwcPasswords: Object.fromEntries(
      OFFICES.map((o) => [o, store.ensure(secretNames.qbwcPassword(o), () => randomBytes(12).toString('base64url'))]),
    ),
    webhookKey: store.ensure(secretNames.webhookKey, () => randomBytes(24).toString('base64url')),
    dataverseClientSecret: store.ensure(secretNames.dataverseClientSecret, () => randomBytes(24).toString('base64url')),
  };
}

export interface SandboxesOptions {
  dataDir: string;
  qbPort: number;
  dvPort: number;
  /** Where the gateway listens: the .QWC files, connections and webhooks point there. */
  gatewayPort: number;
  temporalAddress: string;
  namespace: string;
  qbwcIntervalSeconds: number;
  /** Extra Dataverse sandbox options (the chaos run's fault hooks). */
  dataverse?: Pick<DataverseSandboxOptions, 'faults'>;
}

export interface Sandboxes {
  quickbooks: QuickBooksSandbox;
  /** The company files, in process (the chaos run edits and reads them over qbXML). */
  companyFiles: ReadonlyMap<string, CompanyFileSimulator>;
  dataverse: DataverseSandbox;
  close(): Promise<void>;
}

/**
 * Starts both sandboxes and writes the files the worker, gateway and operator read from `dataDir`; `npm start` runs it
 * as its own process, the chaos run (bench/chaos) inside its own.
 */
export async function startSandboxes(options: SandboxesOptions): Promise<Sandboxes> {
  const dataDir = resolve(options.dataDir);
  const sandboxDir = join(dataDir, 'sandbox');
  for (const dir of [
    sandboxDir,
    join(sandboxDir, 'quickbooks'),
    join(sandboxDir, 'qwc'),
    join(sandboxDir, 'dataverse'),
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  const secrets = loadOrCreateSecrets(SecretStore.open(dataDir), join(sandboxDir, 'secrets.json'));
  const qbPort = options.qbPort;
  const dvPort = options.dvPort;
  const gatewayUrl = `http://localhost:${options.gatewayPort}`;

  const companyFiles = OFFICES.map((office) => {
    const sim = new CompanyFileSimulator({
      name: office,
      dataFile: join(sandboxDir, 'quickbooks', `${office}.json`),
      timeZone: OFFICE_TIME_ZONES[office],
      // The simulated QuickBooks' newest qbXML (e.g. 12.0 for QuickBooks 2013); the Web Connector simulator reads the same.
      ...(process.env.SANDBOX_QBXML_VERSION ? { qbxmlVersion: process.env.SANDBOX_QBXML_VERSION } : {}),
    });
    seedDemoCompany(sim, { office });
    return sim;
  });
  const quickbooks = await startQuickBooksSandbox({ port: qbPort, host: '127.0.0.1', companyFiles });
  const dataverse = await startDataverseSandbox({
    port: dvPort,
    host: '127.0.0.1',
    dataDir: join(sandboxDir, 'dataverse'),
    seed: true,
    clientSecret: secrets.dataverseClientSecret,
    ...options.dataverse,
  });

  const connections: ConnectionConfig[] = [];
  const endpointsConnections = [];
  for (const office of OFFICES) {
    const userName = `qbsync-${office}`;
    const companyFilePath = `C:\\QuickBooks\\Sandbox ${office[0]!.toUpperCase()}${office.slice(1)} Office.qbw`;
    const qwcPath = join(sandboxDir, 'qwc', `${office}.qwc`);
    writeFileSync(
      qwcPath,
      buildQwcFile({
        appName: `QuickBooks - Dynamics 365 connector (${office})`,
        appUrl: `${gatewayUrl}/qbwc`,
        appDescription: `Keeps the ${office} office company file and Dynamics 365 Sales in agreement.`,
        appSupport: `${gatewayUrl}/healthz`,
        userName,
        ownerId: deterministicGuid(APP_NAMESPACE, 'owner'),
        fileId: deterministicGuid(APP_NAMESPACE, `file/${office}`),
        qbType: 'QBFS',
        runEveryNSeconds: options.qbwcIntervalSeconds,
        isReadOnly: false,
      }),
    );
    connections.push({
      name: office,
      companyFileLabel: `${office[0]!.toUpperCase()}${office.slice(1)} office`,
      qbwc: {
        userName,
        passwordHash: await hashPassword(secrets.qbwcPasswords[office]!),
        companyFilePath,
        timeZone: OFFICE_TIME_ZONES[office],
      },
      webhook: { kind: 'WebhookKey', key: secrets.webhookKey },
    });
    endpointsConnections.push({
      connection: office,
      qbxmlUrl: `${quickbooks.url}/qbxml?companyFile=${office}`,
      qbwcUserName: userName,
      qbwcPasswordRef: reference(secretNames.qbwcPassword(office)),
      companyFilePath,
      qwcFile: qwcPath,
    });
  }
  writeFileSync(connectionsFilePath(dataDir), JSON.stringify({ connections }, null, 2), { mode: 0o600 });
  // The connector's webhook steps (`dataverse/connectorWebhook.ts`), one registration per table; a sandbox made before
  // a step was added to the connector gets the missing step added, so `qbsync check` passes on it.
  for (const { table, messages } of connectorWebhookTables()) {
    const registered = dataverse.webhooks().filter((hook) => hook.entity === table);
    const missing = messages.filter((message) => !registered.some((hook) => hook.messages.includes(message)));
    if (missing.length === 0) continue;
    dataverse.registerWebhook({
      url: `http://127.0.0.1:${options.gatewayPort}/webhooks/dataverse`,
      entity: table,
      messages: missing,
      authType: 'WebhookKey',
      key: secrets.webhookKey,
    });
  }

  const endpoints = {
    temporal: { address: options.temporalAddress, namespace: options.namespace, uiUrl: 'http://localhost:8233' },
    gateway: { url: gatewayUrl, qbwcPath: '/qbwc', qbwcUrl: `${gatewayUrl}/qbwc`, wsdlUrl: `${gatewayUrl}/qbwc?wsdl` },
    quickbooks: { url: quickbooks.url, companyFiles: endpointsConnections },
    dataverse: {
      webApiUrl: dataverse.webApiUrl,
      environmentUrl: dataverse.environmentUrl,
      authority: dataverse.authority,
      scope: dataverse.scope,
      tenantId: dataverse.tenantId,
      clientId: dataverse.clientId,
      clientSecretRef: reference(secretNames.dataverseClientSecret),
      caCertPath: dataverse.caCertPath,
      webhookKeyRef: reference(secretNames.webhookKey),
    },
  };
  writeFileSync(join(sandboxDir, 'endpoints.json'), JSON.stringify(endpoints, null, 2), { mode: 0o600 });
  return {
    quickbooks,
    companyFiles: new Map(companyFiles.map((sim, i) => [OFFICES[i]!, sim])),
    dataverse,
    close: async () => {
      await Promise.allSettled([quickbooks.close(), dataverse.close()]);
    },
  };
}

async function main(): Promise<void> {
  const sandboxes = await startSandboxes({
    dataDir: runtime.dataDir,
    qbPort: Number(process.env.SANDBOX_QB_PORT ?? 8090),
    dvPort: Number(process.env.SANDBOX_DATAVERSE_PORT ?? 8443),
    gatewayPort: runtime.gatewayPort,
    temporalAddress: runtime.temporalAddress,
    namespace: runtime.namespace,
    qbwcIntervalSeconds: Number(process.env.SANDBOX_QBWC_INTERVAL_SECONDS ?? 20),
  });
  logger.info({ quickbooks: sandboxes.quickbooks.url, dataverse: sandboxes.dataverse.webApiUrl }, 'sandbox ready');
  process.stdout.write('SANDBOX READY\n');

  const stop = (): void => {
    void sandboxes.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    logger.error({ error: String(error) }, 'sandbox stopped with an error');
    process.exit(1);
  });
}
