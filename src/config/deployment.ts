import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RateGovernorOptions } from '../dataverse/rateGovernor';
import { hostTimeZone } from '../qbxml/localTime';
import { hashPassword } from './qbwcPassword';
import {
  ConfigFileError,
  DEFAULT_MAX_CACHED_WORKFLOWS,
  configFileEnvVariable,
  configFilePath,
  loadConfigFile,
  type ConnectorConfig,
} from './configFile';
import { loadConnections, type ConnectionConfig } from './connections';
import { MIN_SECRET_LENGTH, resolveSecret, SecretStore } from './secrets';
import { sandboxSyncSettings, type SyncSettings } from './syncSettings';
import { checkClientCertificate, type TemporalTarget, type TemporalTls } from '../temporal/connect';

/**
 * The deployment the worker, gateway and `qbsync` serve, from one place: the configuration file when there is one
 * (`QBSYNC_CONFIG`, else `<dataDir>/qbsync.yaml`), else the files `npm start` writes for the sandbox
 * (`connections.json`, `sandbox/endpoints.json`).
 *
 * Secrets are resolved only by the methods that need them, so each process reads only its own credentials: the gateway
 * never needs the Dataverse client secret, the worker never needs a Web Connector password.
 */

/** What a process needs to reach a Dataverse organisation, its credential resolved: a client secret or a certificate. */
export interface DataverseTarget {
  environmentUrl: string;
  webApiUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  clientCertificate?: DataverseCertificate;
  /** A file holding a signed client assertion (JWT), read at every token request: its renewals are picked up. */
  clientAssertionFile?: string;
  authority?: string;
  caPem?: string;
}

/** The app registration's certificate credential, read and checked: the thumbprint Entra knows it by, and its key. */
export interface DataverseCertificate {
  thumbprintSha256: string;
  privateKeyPem: string;
  /** The certificate itself, sent as `x5c` for subject name / issuer authentication. */
  x5cPem?: string;
}

/** A company file's Web Connector login as the gateway checks it: the password only as its scrypt hash. */
export interface QbwcConnection {
  /** Connection name: [a-z0-9_-], also the company file's workflow id suffix. */
  name: string;
  userName: string;
  passwordHash: string;
  /** Returned from authenticate so QBWC opens this file; empty = the file open in QuickBooks. */
  companyFilePath?: string;
  /** IANA zone QuickBooks' local times of this company file are read and written in; the host's when absent. */
  timeZone?: string;
}

/**
 * How a Dataverse service endpoint (contract 8) proves itself (reference/dataverse.md §8.2). Dataverse does not sign
 * payloads, so this shared secret is the only thing standing between the internet and our workflows.
 */
export interface WebhookAuth {
  kind: 'WebhookKey' | 'HttpHeader' | 'HttpQueryString';
  key: string;
  /**
   * HttpHeader: the header Dataverse is configured to send. HttpQueryString: the query parameter name (default `code`).
   * Unused for WebhookKey.
   */
  headerName?: string;
  /**
   * During a key rotation: the key being replaced, accepted until `untilMs` (epoch ms). Dataverse keeps delivering
   * with the old key until the service endpoint is updated, and retries queued before that still carry it.
   */
  previousKey?: { key: string; untilMs: number };
}

/** A connection whose Dataverse webhook the gateway receives, with the secret it authenticates against. */
export interface WebhookConnection {
  name: string;
  auth: WebhookAuth;
}

export interface TemporalEndpoint {
  address: string;
  namespace: string;
  taskQueue: string;
}

export interface GatewayEndpoint {
  host: string;
  port: number;
  /** Base URL the Web Connector and Dataverse reach the gateway at. */
  publicUrl: string;
  /** The SOAP endpoint's address as the WSDL advertises it. */
  qbwcUrl: string;
}

export interface BatchingLimits {
  maxRequestsPerRoundTrip: number;
  maxRecordsPerRoundTrip: number;
  quickbooksWaitHours?: number;
}

export interface ConnectionSchedule {
  every: string;
  paused: boolean;
}

/** One company file, without any of its secrets. */
export interface DeploymentConnection {
  name: string;
  companyFileLabel: string;
  qbwc: { userName: string; companyFilePath: string; timeZone?: string };
  hasWebhook: boolean;
  schedule: ConnectionSchedule;
  sync: SyncSettings;
}

export type DeploymentSource = { kind: 'config-file'; path: string } | { kind: 'sandbox'; dataDir: string };

export interface Deployment {
  source: DeploymentSource;
  temporal: TemporalEndpoint;
  gateway: GatewayEndpoint;
  /** Dataverse pacing for the process's one governor; empty = the governor's own defaults (the sandbox). */
  governor: RateGovernorOptions;
  /** Undefined on the sandbox: the company file workflow's own defaults apply. */
  batching: BatchingLimits | undefined;
  connections: readonly DeploymentConnection[];
  /** The organisation's URL, for messages; known without resolving a secret only from a configuration file. */
  dataverseEnvironmentUrl: string | undefined;
  /** How long a worker keeps the Dynamics choice options it read; undefined: the activities' default (60 s). */
  choiceOptionsMaxAgeMs?: number;
  /** Workflows a worker keeps cached between their tasks: `worker.maxCachedWorkflows`, else the default (2,000). */
  maxCachedWorkflows: number;
  /** Resolves the client secret (and reads the CA); throws naming the reference, never a value. */
  dataverseTarget(): DataverseTarget;
  /** Resolves every Web Connector password and keeps only its scrypt hash. */
  qbwcConnections(): Promise<QbwcConnection[]>;
  /** Resolves every webhook key (what the receiver authenticates against); connections without one are left out. */
  webhookConnections(): WebhookConnection[];
  /**
   * Where and how to reach Temporal: the address with the TLS material and API key resolved (files read, references
   * resolved, the client certificate's dates and key checked). Throws naming the field and the problem, never a value.
   */
  temporalTarget(): TemporalTarget;
}

export interface LoadDeploymentOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TEMPORAL: TemporalEndpoint = {
  address: '127.0.0.1:7233',
  namespace: 'default',
  taskQueue: 'qb-d365-sync',
};
const SANDBOX_SCHEDULE: ConnectionSchedule = { every: '1h', paused: false };

/**
 * True when a configuration file decides the deployment (and `npm start` leaves the sandbox out). `QBSYNC_CONFIG` set
 * counts even when its file is missing: falling back to the sandbox then would hide the operator's typo.
 */
export function hasConfigFile(dataDir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[configFileEnvVariable]) || existsSync(configFilePath(dataDir, env));
}

/**
 * Validates the configuration file when there is one (an invalid file throws its `ConfigFileError` with every field
 * path), else reads the sandbox's connections. Environment variables override the file's addresses, as they override
 * the defaults: an operator can move one process without editing the shared file.
 */
export function loadDeployment(options: LoadDeploymentOptions): Deployment {
  const env = options.env ?? process.env;
  const path = configFilePath(options.dataDir, env);
  if (hasConfigFile(options.dataDir, env)) return fromConfigFile(loadConfigFile(path), path, options.dataDir, env);
  return fromSandbox(options.dataDir, env);
}

function temporalEndpoint(env: NodeJS.ProcessEnv, configured: TemporalEndpoint): TemporalEndpoint {
  return {
    address: env.TEMPORAL_ADDRESS || configured.address,
    namespace: env.TEMPORAL_NAMESPACE || configured.namespace,
    taskQueue: env.TEMPORAL_TASK_QUEUE || configured.taskQueue,
  };
}

/** `temporal.tls` and `temporal.apiKey` as written: file paths or secret references. */
interface TemporalSecurity {
  tls?: { serverCa?: string; clientCert?: string; clientKey?: string; serverName?: string };
  apiKey?: string;
}

/**
 * The Temporal CLI's variables (TEMPORAL_TLS_*, TEMPORAL_API_KEY) override the file, as TEMPORAL_ADDRESS does, so one
 * set of variables points the CLI and the connector at the same secured cluster, with or without a configuration file.
 */
function temporalSecurity(env: NodeJS.ProcessEnv, configured: TemporalSecurity): TemporalSecurity & { origin: string } {
  const fromEnv = {
    serverCa: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    clientCert: env.TEMPORAL_TLS_CLIENT_CERT_PATH,
    clientKey: env.TEMPORAL_TLS_CLIENT_KEY_PATH,
    serverName: env.TEMPORAL_TLS_SERVER_NAME,
  };
  const envTls = Object.values(fromEnv).some(Boolean) || env.TEMPORAL_TLS === 'true';
  const tls = envTls
    ? Object.fromEntries(Object.entries({ ...configured.tls, ...fromEnv }).filter(([, v]) => v))
    : configured.tls;
  const apiKey = env.TEMPORAL_API_KEY ? 'env:TEMPORAL_API_KEY' : configured.apiKey;
  return { ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}), origin: envTls ? 'environment' : 'file' };
}

const TLS_FIELD_VARIABLES = {
  serverCa: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  clientCert: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  clientKey: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
} as const;

function resolveTemporalTarget(
  source: string,
  endpoint: TemporalEndpoint,
  security: TemporalSecurity & { origin: string },
  store: () => SecretStore,
  env: NodeJS.ProcessEnv,
): TemporalTarget {
  const target: TemporalTarget = { address: endpoint.address, namespace: endpoint.namespace };
  const problems: string[] = [];
  const fieldName = (field: keyof typeof TLS_FIELD_VARIABLES): string =>
    security.origin === 'environment' && env[TLS_FIELD_VARIABLES[field]]
      ? TLS_FIELD_VARIABLES[field]
      : `temporal.tls.${field}`;
  const pem = (field: keyof typeof TLS_FIELD_VARIABLES): string | undefined => {
    const where = security.tls?.[field];
    if (where === undefined) return undefined;
    try {
      const text =
        where.startsWith('secret:') || where.startsWith('env:') ? resolveSecret(where, store, env) : readPemFile(where);
      if (!text.includes('-----BEGIN')) throw new Error(`${describeSource(where)} holds no PEM text`);
      return text;
    } catch (error) {
      problems.push(`${fieldName(field)}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  if (security.tls) {
    const tls: TemporalTls = {};
    const serverCa = pem('serverCa');
    if (serverCa !== undefined) {
      try {
        new X509Certificate(serverCa);
        tls.serverCaPem = serverCa;
      } catch {
        problems.push(`${fieldName('serverCa')}: is not a PEM certificate`);
      }
    }
    const clientCert = pem('clientCert');
    const clientKey = pem('clientKey');
    if (clientCert !== undefined && clientKey !== undefined) {
      const problem = checkClientCertificate({ clientCertPem: clientCert, clientKeyPem: clientKey });
      if (problem) problems.push(`${fieldName('clientCert')}: ${problem}`);
      tls.clientCertPem = clientCert;
      tls.clientKeyPem = clientKey;
    } else if ((security.tls.clientCert === undefined) !== (security.tls.clientKey === undefined)) {
      problems.push('temporal.tls: a client certificate needs its key, and a key its certificate');
    }
    if (security.tls.serverName) tls.serverName = security.tls.serverName;
    target.tls = tls;
  }
  if (security.apiKey) {
    try {
      target.apiKey = resolveSecret(security.apiKey, store, env);
    } catch (error) {
      problems.push(`temporal.apiKey: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new ConfigFileError(source, problems);
  return target;
}

/** Temporal without a configuration file: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the CLI's TLS and API key variables. */
export function temporalTargetFromEnvironment(dataDir: string, env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  return resolveTemporalTarget(
    'environment',
    temporalEndpoint(env, DEFAULT_TEMPORAL),
    temporalSecurity(env, {}),
    lazySecretStore(dataDir, env),
    env,
  );
}

/** A file path as is; a reference by its kind and name (the reference names no value). */
function describeSource(where: string): string {
  return where.startsWith('secret:') || where.startsWith('env:') ? `the value of ${where}` : where;
}

function gatewayEndpoint(
  env: NodeJS.ProcessEnv,
  configured: { host: string; port: number; publicUrl?: string },
): GatewayEndpoint {
  const host = env.GATEWAY_HOST || configured.host;
  const port = env.GATEWAY_PORT ? Number(env.GATEWAY_PORT) : configured.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`GATEWAY_PORT must be a port number, 0-65535.`);
  }
  // Without a configured public URL (the sandbox) the `.QWC` default is localhost: the only host QBWC accepts over http.
  const publicUrl = (env.GATEWAY_PUBLIC_BASE_URL || configured.publicUrl || `http://localhost:${port}`).replace(
    /\/+$/,
    '',
  );
  const qbwcUrl =
    env.GATEWAY_PUBLIC_URL || (configured.publicUrl ? `${configured.publicUrl}/qbwc` : `http://${host}:${port}/qbwc`);
  return { host, port, publicUrl, qbwcUrl };
}

/** Opens the secret store only when a `secret:` reference is resolved, so `env:`-only files need no store key. */
function lazySecretStore(dataDir: string, env: NodeJS.ProcessEnv): () => SecretStore {
  let store: SecretStore | undefined;
  return () => (store ??= SecretStore.open(dataDir, env));
}

interface SecretField {
  /** Where the reference sits in the file, e.g. `connections[1].qbwc.password`. */
  field: string;
  reference: string;
  /** Shorter values are refused: a Web Connector password or webhook key is guessable online otherwise. */
  minLength?: number;
}

/**
 * Every reference at once, so an operator sees all missing secrets in one start-up. The messages come from
 * `resolveSecret`, which names the reference and the store, never a value.
 */
function resolveFields(
  source: string,
  fields: readonly SecretField[],
  store: () => SecretStore,
  env: NodeJS.ProcessEnv,
) {
  const values: string[] = [];
  const problems: string[] = [];
  for (const { field, reference, minLength } of fields) {
    try {
      const value = resolveSecret(reference, store, env);
      if (minLength !== undefined && value.length < minLength) {
        // Never the value, nor its length: either narrows a guess.
        problems.push(
          `${field}: the secret behind ${reference} is shorter than ${minLength} characters; set a longer, random one`,
        );
      }
      values.push(value);
    } catch (error) {
      problems.push(`${field}: ${error instanceof Error ? error.message : 'the secret cannot be resolved'}`);
    }
  }
  if (problems.length > 0) throw new ConfigFileError(source, problems);
  return values;
}

/**
 * Reads `dataverse.clientCertificate`: the certificate and key from files or secret references, checked the way Entra
 * would refuse them (expired, not yet valid, a key of another certificate), each problem naming its field.
 */
function resolveDataverseCertificate(
  source: string,
  configured: { certificate: string; privateKey: string; sendX5c: boolean },
  store: () => SecretStore,
  env: NodeJS.ProcessEnv,
): DataverseCertificate {
  const problems: string[] = [];
  const pem = (field: 'certificate' | 'privateKey'): string | undefined => {
    const where = configured[field];
    try {
      const text =
        where.startsWith('secret:') || where.startsWith('env:') ? resolveSecret(where, store, env) : readPemFile(where);
      if (!text.includes('-----BEGIN')) throw new Error(`${describeSource(where)} holds no PEM text`);
      return text;
    } catch (error) {
      problems.push(`dataverse.clientCertificate.${field}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  const certificatePem = pem('certificate');
  const privateKeyPem = pem('privateKey');
  if (certificatePem !== undefined && privateKeyPem !== undefined) {
    const problem = checkClientCertificate({ clientCertPem: certificatePem, clientKeyPem: privateKeyPem });
    if (problem) problems.push(`dataverse.clientCertificate.certificate: ${problem}`);
  }
  if (problems.length || certificatePem === undefined || privateKeyPem === undefined) {
    throw new ConfigFileError(source, problems);
  }
  return {
    thumbprintSha256: new X509Certificate(certificatePem).fingerprint256.replace(/:/g, '').toLowerCase(),
    privateKeyPem,
    ...(configured.sendX5c ? { x5cPem: certificatePem } : {}),
  };
}

function readPemFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function readCa(source: string, field: string, caPath: string): string {
  try {
    return readFileSync(caPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigFileError(source, [`${field}: ${caPath} cannot be read (${code})`]);
  }
}

function fromConfigFile(config: ConnectorConfig, path: string, dataDir: string, env: NodeJS.ProcessEnv): Deployment {
  const store = lazySecretStore(dataDir, env);
  const { dataverse, governor } = config;
  return {
    source: { kind: 'config-file', path },
    temporal: temporalEndpoint(env, config.temporal),
    gateway: gatewayEndpoint(env, config.gateway),
    governor: {
      maxConcurrent: governor.maxConcurrent,
      requestsPerWindow: governor.requestsPerWindow,
      windowMs: governor.windowSeconds * 1000,
    },
    batching: { ...config.batching },
    dataverseEnvironmentUrl: dataverse.environmentUrl,
    choiceOptionsMaxAgeMs: dataverse.choiceOptionsMaxAgeSeconds * 1000,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    connections: config.connections.map((c) => ({
      name: c.name,
      companyFileLabel: c.companyFileLabel,
      qbwc: {
        userName: c.qbwc.userName,
        companyFilePath: c.qbwc.companyFilePath,
        timeZone: c.qbwc.timeZone ?? hostTimeZone(),
      },
      hasWebhook: c.webhook !== undefined,
      schedule: { every: c.schedule.every, paused: c.schedule.paused },
      sync: c.sync,
    })),
    dataverseTarget() {
      const credential = dataverse.clientAssertionFile
        ? { clientAssertionFile: dataverse.clientAssertionFile }
        : dataverse.clientCertificate
          ? { clientCertificate: resolveDataverseCertificate(path, dataverse.clientCertificate, store, env) }
          : {
              clientSecret: resolveFields(
                path,
                [{ field: 'dataverse.clientSecret', reference: dataverse.clientSecret ?? '' }],
                store,
                env,
              )[0]!,
            };
      return {
        environmentUrl: dataverse.environmentUrl,
        webApiUrl: `${dataverse.environmentUrl}/api/data/v9.2/`,
        tenantId: dataverse.tenantId,
        clientId: dataverse.clientId,
        ...credential,
        ...(dataverse.authority ? { authority: dataverse.authority } : {}),
        ...(dataverse.caCertPath ? { caPem: readCa(path, 'dataverse.caCertPath', dataverse.caCertPath) } : {}),
      };
    },
    async qbwcConnections() {
      const passwords = resolveFields(
        path,
        config.connections.map((c, i) => ({
          field: `connections[${i}].qbwc.password`,
          reference: c.qbwc.password,
          minLength: MIN_SECRET_LENGTH,
        })),
        store,
        env,
      );
      // The clear password lives only in this scope: the gateway keeps the hash, as it does for the sandbox's file.
      return Promise.all(
        config.connections.map(async (c, i) => ({
          name: c.name,
          userName: c.qbwc.userName,
          passwordHash: await hashPassword(passwords[i]!),
          companyFilePath: c.qbwc.companyFilePath,
          timeZone: c.qbwc.timeZone ?? hostTimeZone(),
        })),
      );
    },
    temporalTarget() {
      return resolveTemporalTarget(
        path,
        temporalEndpoint(env, config.temporal),
        temporalSecurity(env, config.temporal),
        store,
        env,
      );
    },
    webhookConnections() {
      const withWebhook = config.connections.flatMap((c, i) => (c.webhook ? [{ c, i, webhook: c.webhook }] : []));
      const keys = resolveFields(
        path,
        withWebhook.flatMap(({ i, webhook }) => [
          { field: `connections[${i}].webhook.key`, reference: webhook.key, minLength: MIN_SECRET_LENGTH },
          ...(webhook.previousKey
            ? [{ field: `connections[${i}].webhook.previousKey`, reference: webhook.previousKey }]
            : []),
        ]),
        store,
        env,
      );
      let next = 0;
      return withWebhook.map(({ c, webhook }) => {
        const key = keys[next++]!;
        const previousKey = webhook.previousKey ? keys[next++]! : undefined;
        return {
          name: c.name,
          auth: {
            kind: webhook.kind,
            key,
            ...(webhook.headerName ? { headerName: webhook.headerName } : {}),
            ...(previousKey && webhook.previousKeyUntil
              ? { previousKey: { key: previousKey, untilMs: Date.parse(webhook.previousKeyUntil) } }
              : {}),
          },
        };
      });
    },
  };
}

function fromSandbox(dataDir: string, env: NodeJS.ProcessEnv): Deployment {
  const connections: ConnectionConfig[] = loadConnections(dataDir);
  return {
    source: { kind: 'sandbox', dataDir },
    temporal: temporalEndpoint(env, DEFAULT_TEMPORAL),
    gateway: gatewayEndpoint(env, { host: '127.0.0.1', port: 8080 }),
    governor: {},
    batching: undefined,
    dataverseEnvironmentUrl: undefined,
    maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
    connections: connections.map((c) => ({
      name: c.name,
      companyFileLabel: c.companyFileLabel,
      qbwc: {
        userName: c.qbwc.userName,
        companyFilePath: c.qbwc.companyFilePath,
        timeZone: c.qbwc.timeZone ?? hostTimeZone(),
      },
      hasWebhook: c.webhook !== undefined,
      schedule: { ...SANDBOX_SCHEDULE },
      sync: sandboxSyncSettings(c.name),
    })),
    dataverseTarget: () => dataverseTargetFromEnvironment(dataDir, env),
    qbwcConnections: () =>
      Promise.resolve(
        connections.map((c) => ({
          name: c.name,
          userName: c.qbwc.userName,
          passwordHash: c.qbwc.passwordHash,
          companyFilePath: c.qbwc.companyFilePath,
          timeZone: c.qbwc.timeZone ?? hostTimeZone(),
        })),
      ),
    webhookConnections: () => connections.flatMap((c) => (c.webhook ? [{ name: c.name, auth: c.webhook }] : [])),
    temporalTarget: () => temporalTargetFromEnvironment(dataDir, env),
  };
}

/**
 * Without a configuration file: DATAVERSE_URL, DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID and DATAVERSE_CLIENT_SECRET
 * (or DATAVERSE_CLIENT_SECRET_REF=secret:<name>), else the sandbox of `npm start` from `<dataDir>/sandbox/endpoints.json`,
 * whose `clientSecretRef` points into the store.
 */
export function dataverseTargetFromEnvironment(dataDir: string, env: NodeJS.ProcessEnv): DataverseTarget {
  const store = lazySecretStore(dataDir, env);
  if (env.DATAVERSE_URL) {
    const secretVariable = env.DATAVERSE_CLIENT_SECRET_REF ? 'DATAVERSE_CLIENT_SECRET_REF' : 'DATAVERSE_CLIENT_SECRET';
    const missing = ['DATAVERSE_TENANT_ID', 'DATAVERSE_CLIENT_ID', secretVariable].filter((k) => !env[k]);
    if (missing.length)
      throw new Error(`DATAVERSE_URL is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not.`);
    const environmentUrl = env.DATAVERSE_URL.replace(/\/+$/, '');
    return {
      environmentUrl,
      webApiUrl: `${environmentUrl}/api/data/v9.2/`,
      tenantId: env.DATAVERSE_TENANT_ID!,
      clientId: env.DATAVERSE_CLIENT_ID!,
      clientSecret: env.DATAVERSE_CLIENT_SECRET_REF
        ? resolveSecret(env.DATAVERSE_CLIENT_SECRET_REF, store, env)
        : env.DATAVERSE_CLIENT_SECRET!,
    };
  }
  const path = join(dataDir, 'sandbox', 'endpoints.json');
  let endpoints: {
    dataverse: Omit<DataverseTarget, 'caPem' | 'clientSecret'> & {
      caCertPath: string;
      clientSecretRef?: string;
      /** Written in clear by sandboxes before the secret store existed. */
      clientSecret?: string;
    };
  };
  try {
    endpoints = JSON.parse(readFileSync(path, 'utf8')) as typeof endpoints;
  } catch {
    throw new Error(
      `No Dataverse configured: write a configuration file (${configFilePath(dataDir, env)}, see config/qbsync.example.yaml), ` +
        `set DATAVERSE_URL (and tenant, client id, secret), or run \`npm start\` to create ${path}.`,
    );
  }
  const { clientSecretRef, clientSecret, ...dv } = endpoints.dataverse;
  const secret = clientSecretRef ? resolveSecret(clientSecretRef, store, env) : clientSecret;
  if (!secret) throw new Error(`${path}: dataverse.clientSecretRef is missing; run \`npm start\` again to rewrite it.`);
  return { ...dv, clientSecret: secret, caPem: readFileSync(dv.caCertPath, 'utf8') };
}
