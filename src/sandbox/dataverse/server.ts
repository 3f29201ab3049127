import https from 'node:https';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { childLogger } from '../../observability/logger';
import { executeBatch } from './batch';
import { ensureSandboxCertificates } from './certificateAuthority';
import { DataverseError, ErrorCodes } from './dataverseError';
import { seedDemoOrganisation } from './demoOrganisation';
import { deterministicGuid } from './deterministicId';
import { IdentityProvider } from './identityProvider';
import { MetadataApi, type MetadataSnapshot } from './metadataApi';
import { SandboxPersistence } from './persistence';
import { CONNECTOR_ROLE_NAME } from '../../dataverse/connectorRole';
import { SecurityApi, type PrivilegeDepth } from './securityApi';
import { RecordService, type ServerWork, type WriteContext } from './records';
import { type Row } from './row';
import { Schema } from './schema';
import { type DataverseFaults } from './faults';
import {
  DEFAULT_LIMITS,
  DEFAULT_SERVER_TIME,
  ServiceProtection,
  type Admission,
  type ServerTimeCharges,
  type ServiceProtectionLimits,
} from './serviceProtection';
import { RecordStore } from './store';
import { WebApi, type ApiResponse } from './webApi';
import { WebhookDispatcher, type StoredWebhook, type WebhookDelivery, type WebhookRegistration } from './webhooks';

const log = childLogger({ component: 'dataverse-sandbox' });

export interface DataverseSandboxOptions {
  /** 8443 by default; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Certificates and the data file live here. */
  dataDir: string;
  seed?: boolean;
  limits?: ServiceProtectionLimits;
  /** Server time charged per request and per bulk row toward the execution-time limit (see ServerTimeCharges). */
  serverTime?: ServerTimeCharges;
  tokenLifetimeSeconds?: number;
  clientId?: string;
  clientSecret?: string;
  /** Certificate credentials registered on the app (PEM), for client assertions signed with their keys. */
  clientCertificates?: string[];
  tenantId?: string;
  webhookDeliveryDelayMs?: number;
  createProductsAsActive?: boolean;
  /**
   * How long a new alternate key's index takes to build (Pending, then In Progress) before it is Active; default 1 s.
   * A real organisation takes seconds to hours, so clients must wait for Active rather than assume it.
   */
  keyActivationDelayMs?: number;
  /** Fault injection for the chaos run; never set otherwise. */
  faults?: DataverseFaults;
}

export interface DataverseSandboxStats {
  requests: number;
  throttled: number;
  /** Server time charged toward the execution-time limit since start (ms). */
  serverTimeMs: number;
  tokensIssued: number;
  /**
   * Bulk messages received, by table and message (`accounts/UpsertMultiple`), whether they wrote or a bad row
   * refused them: how tests and the benchmark tell rows that travelled together from rows sent one request each.
   */
  bulkMessages: Record<string, number>;
  /**
   * Web API requests admitted, by kind (`requestKind`: `GET accounts?`, `GET accounts()`, `PATCH accounts()`,
   * `POST accounts/UpsertMultiple`, `POST $batch`): where a run's requests go. A `$batch` is one request, whatever
   * its parts.
   */
  requestsByKind: Record<string, number>;
}

/**
 * The kind of a Web API request, with the row addressed and the query left out: method, entity set, then `()` for
 * one row (by id or key), `?` for a query of the set, or the bound message's short name.
 */
function requestKind(method: string, apiPath: string): string {
  if (apiPath === '$batch') return `${method} $batch`;
  const [head = '', ...rest] = apiPath.split('/');
  const set = head.replace(/\(.*$/, '');
  const shape = head.includes('(') ? '()' : rest.length === 0 && method === 'GET' ? '?' : '';
  const message = rest.length > 0 ? `/${rest.join('/').replace(/^Microsoft\.Dynamics\.CRM\./, '')}` : '';
  return `${method} ${set}${shape}${message}`;
}

export interface DataverseSandbox {
  webApiUrl: string;
  environmentUrl: string;
  authority: string;
  scope: string;
  tenantId: string;
  /** The app registration whose application user is a System Administrator: provisioning, tests, tools. */
  clientId: string;
  clientSecret: string;
  /**
   * A second app registration whose application user has exactly the least-privilege role docs/deployment.md gives
   * (`QuickBooks connector`, `dataverse/connectorRole.ts`): what the sync runs as in the end-to-end tests.
   */
  connectorClientId: string;
  connectorClientSecret: string;
  caCertPath: string;
  caCertPem: string;
  registerWebhook(registration: WebhookRegistration): string;
  unregisterWebhook(id: string): boolean;
  webhooks(): StoredWebhook[];
  webhookDeliveries(): WebhookDelivery[];
  /** Resolves when every webhook delivery started so far has finished. */
  webhooksIdle(): Promise<void>;
  stats(): DataverseSandboxStats;
  setLimits(limits: ServiceProtectionLimits): void;
  setTokenLifetime(seconds: number): void;
  /** Registers a certificate credential (PEM) on the app, as an admin uploads one in Entra. */
  registerClientCertificate(pem: string): void;
  /** Takes a privilege (e.g. `prvReadAccount`) out of the application user's role: requests needing it get 403. */
  withholdPrivilege(privilegeName: string): void;
  /**
   * Lowers the depth `RetrieveUserPrivileges` reports for a privilege (an administrator who left the role's row at User
   * level). Reported only: the sandbox does not narrow the rows a request sees to the depth.
   */
  limitPrivilegeDepth(privilegeName: string, depth: PrivilegeDepth): void;
  /** Gives the application user every privilege again, each at Global depth. */
  restorePrivileges(): void;
  /** In-process access for seeding and assertions (benchmarks, tests). */
  records: RecordService;
  /** Writes the data file now instead of after the debounce. */
  flush(): void;
  close(): Promise<void>;
}

const SANDBOX_DEFAULTS = {
  tenantId: deterministicGuid('tenant:sandbox'),
  clientId: deterministicGuid('client:qbsync-connector'),
  clientSecret: 'sandbox-client-secret-not-for-production',
  connectorClientId: deterministicGuid('client:qbsync-connector-least-privilege'),
  connectorClientSecret: 'sandbox-connector-client-secret-not-for-production',
} as const;

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WEB_API_PATH = /^\/api\/data\/v9\.[0-2]\//;

interface PersistedSandbox {
  format: 1;
  rows: ReturnType<RecordStore['snapshot']>;
  metadata: MetadataSnapshot;
  webhooks: StoredWebhook[];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new DataverseError(413, '', 'Request too large.'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function lowerHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return headers;
}

function errorResponse(error: unknown, prefer: string | undefined): ApiResponse {
  const includeAnnotations = /include-annotations/i.test(prefer ?? '');
  if (error instanceof DataverseError) {
    return {
      status: error.status,
      headers: { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0', ...error.headers },
      body: JSON.stringify(error.body(includeAnnotations)),
    };
  }
  log.error({ err: error }, 'sandbox request failed unexpectedly');
  return {
    status: 500,
    headers: { 'Content-Type': 'application/json; odata.metadata=minimal', 'OData-Version': '4.0' },
    body: JSON.stringify({ error: { code: '0x80040216', message: 'An unexpected error occurred.' } }),
  };
}

function send(response: ServerResponse, answer: ApiResponse): void {
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

/** Starts the HTTPS Dataverse look-alike: Web API, metadata API, $batch, webhooks and its identity provider on one port. */
export async function startDataverseSandbox(opts: DataverseSandboxOptions): Promise<DataverseSandbox> {
  const certificates = await ensureSandboxCertificates(opts.dataDir);
  const tenantId = opts.tenantId ?? SANDBOX_DEFAULTS.tenantId;
  const clientId = opts.clientId ?? SANDBOX_DEFAULTS.clientId;
  const clientSecret = opts.clientSecret ?? SANDBOX_DEFAULTS.clientSecret;
  const host = opts.host ?? '127.0.0.1';

  const schema = new Schema();
  let persistence: SandboxPersistence<PersistedSandbox> | undefined = undefined;
  const changed = (): void => persistence?.schedule();
  const store = new RecordStore(changed);
  const records = new RecordService(schema, store, { createProductsAsActive: opts.createProductsAsActive === true });
  const metadata = new MetadataApi(schema, store, changed, opts.keyActivationDelayMs ?? 1000);
  const protection = new ServiceProtection(opts.limits ?? DEFAULT_LIMITS);
  const serverTime = opts.serverTime ?? DEFAULT_SERVER_TIME;
  const faults = opts.faults;
  const bulkMessages: Record<string, number> = {};
  const requestsByKind: Record<string, number> = {};

  // The URLs depend on the port, known only after listen(); the handler reads these once they are set.
  let environmentUrl = '';
  let webApi: WebApi | undefined = undefined;
  let identity: IdentityProvider | undefined = undefined;
  let webhooks: WebhookDispatcher | undefined = undefined;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const headers = lowerHeaders(request);
    let admission: Admission | undefined;
    const work: ServerWork = { operations: 0, rows: 0 };
    try {
      const body = await readBody(request);
      const url = new URL(request.url ?? '/', environmentUrl);
      const method = (request.method ?? 'GET').toUpperCase();
      if (identity === undefined || webApi === undefined || webhooks === undefined)
        throw new DataverseError(503, '', 'Sandbox is starting.');
      const idpAnswer = await identity.handle(method, url, body);
      if (idpAnswer !== undefined) {
        response.writeHead(idpAnswer.status, idpAnswer.headers);
        response.end(idpAnswer.body);
        return;
      }
      if (!WEB_API_PATH.test(url.pathname)) {
        send(response, errorResponse(new DataverseError(404, '', `No resource at ${url.pathname}.`), undefined));
        return;
      }
      const check = await identity.verify(headers.authorization);
      if (!check.ok) {
        const code = check.reason === 'expired' ? ErrorCodes.expiredOAuthToken : ErrorCodes.invalidAuthTicket;
        throw new DataverseError(401, code, check.detail, {
          'WWW-Authenticate': `Bearer error=invalid_token, error_description="${check.detail.replace(/"/g, "'")}", authorization_uri=${environmentUrl}/${tenantId}/oauth2/authorize, resource_id=${environmentUrl}`,
        });
      }
      const refusal = faults?.refusal();
      if (refusal !== undefined) throw refusal;
      admission = protection.admit(check.clientId);
      const tag = url.searchParams.get('tag') ?? undefined;
      url.searchParams.delete('tag');
      const apiPath = url.pathname.replace(WEB_API_PATH, '');
      const kind = requestKind(method, apiPath);
      requestsByKind[kind] = (requestsByKind[kind] ?? 0) + 1;
      const dispatcher = webhooks;
      if (apiPath === '$batch' && method === 'POST') {
        const api = webApi;
        const batchAnswer = executeBatch(headers['content-type'], body, tag, {
          api,
          store,
          webApiUrl: `${environmentUrl}/api/data/v9.2/`,
          outerHeaders: { prefer: headers.prefer, callerobjectid: headers.callerobjectid },
          caller: check.clientId,
          dispatch: (events, t) => dispatcher.dispatch(events, t),
          errorResponse,
          work,
        });
        if (faults?.loseAnswer(method, batchAnswer.tag)) {
          request.socket.destroy();
          return;
        }
        send(response, batchAnswer);
        return;
      }
      const context: WriteContext = { events: [], work, ...(tag !== undefined ? { tag } : {}) };
      const answer = store.transaction(() =>
        webApi?.handle(
          { method, path: apiPath, query: url.searchParams, headers, body, caller: check.clientId },
          context,
        ),
      );
      if (answer === undefined) throw new DataverseError(503, '', 'Sandbox is starting.');
      dispatcher.dispatch(context.events, tag);
      if (faults?.loseAnswer(method, tag)) {
        // Committed, events dispatched; the caller never hears of it, as after a timeout.
        request.socket.destroy();
        return;
      }
      send(response, answer);
    } catch (error) {
      send(response, errorResponse(error, headers.prefer));
    } finally {
      for (const message of work.bulkMessages ?? []) bulkMessages[message] = (bulkMessages[message] ?? 0) + 1;
      if (admission !== undefined) {
        const admitted = admission;
        admitted.charge(Math.max(1, work.operations) * serverTime.perRequestMs + work.rows * serverTime.perRowMs);
        if (response.writableFinished) admitted.end();
        else response.on('close', () => admitted.end());
      }
    }
  };

  const server = https.createServer({ cert: certificates.certPem, key: certificates.keyPem }, (request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  environmentUrl = `https://${urlHost}:${port}`;
  const webApiUrl = `${environmentUrl}/api/data/v9.2/`;

  identity = new IdentityProvider({
    environmentUrl,
    tenantId,
    clientId,
    clientSecret,
    otherApps: { [SANDBOX_DEFAULTS.connectorClientId]: SANDBOX_DEFAULTS.connectorClientSecret },
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 3600,
  });
  for (const pem of opts.clientCertificates ?? []) identity.registerCertificate(pem);
  const organizationId = deterministicGuid('organization:sandbox');
  webhooks = new WebhookDispatcher(
    schema,
    store,
    {
      environmentUrl,
      organizationId,
      organizationName: 'qbsyncsandbox',
      userId: deterministicGuid('systemuser:application-user'),
      deliveryDelayMs: opts.webhookDeliveryDelayMs ?? 50,
      ...(faults ? { deliveryDelays: (ms: number) => faults.deliveryDelays(ms) } : {}),
      caCertPem: certificates.caCertPem,
    },
    changed,
  );
  const dispatcher = webhooks;
  const security = new SecurityApi(schema, {
    users: [
      { clientId, userId: deterministicGuid('systemuser:application-user'), role: 'System Administrator' },
      {
        clientId: SANDBOX_DEFAULTS.connectorClientId,
        userId: deterministicGuid('systemuser:connector-application-user'),
        role: CONNECTOR_ROLE_NAME,
      },
    ],
    businessUnitId: deterministicGuid('businessunit:root'),
    organizationId: () => String(store.all('organization')[0]?.organizationid ?? organizationId),
    webhooks: () => dispatcher.registrations(),
  });
  webApi = new WebApi(records, webApiUrl, [security.handle, metadata.handle]);

  persistence = new SandboxPersistence<PersistedSandbox>(path.join(opts.dataDir, 'dataverse-sandbox.json'), () => ({
    format: 1,
    rows: store.snapshot(),
    metadata: metadata.snapshot(),
    webhooks: dispatcher.registrations(),
  }));
  const saved = persistence.load();
  if (saved !== undefined && saved.format === 1) {
    metadata.restore(saved.metadata);
    store.restore(saved.rows, (table) => schema.tables.get(table)?.primaryKey);
    for (const hook of saved.webhooks) dispatcher.register(hook, hook.id);
  }

  const quiet: WriteContext = { events: [] };
  const orgTable = schema.table('organization');
  const org = store.all('organization')[0];
  if (org === undefined) {
    records.create(
      orgTable,
      {
        organizationid: organizationId,
        name: 'qbsyncsandbox',
        createproductswithoutparentinactivestate: opts.createProductsAsActive === true,
        pricingdecimalprecision: 2,
      },
      quiet,
    );
  } else if (
    opts.createProductsAsActive !== undefined &&
    org.createproductswithoutparentinactivestate !== opts.createProductsAsActive
  ) {
    records.update(
      orgTable,
      org as Row,
      { createproductswithoutparentinactivestate: opts.createProductsAsActive },
      quiet,
    );
  }
  if (opts.seed === true) seedDemoOrganisation(records);
  persistence.flush();

  const identityProvider = identity;
  log.info({ environmentUrl }, 'dataverse sandbox listening');
  return {
    webApiUrl,
    environmentUrl,
    authority: `${environmentUrl}/${tenantId}`,
    scope: `${environmentUrl}/.default`,
    tenantId,
    clientId,
    clientSecret,
    connectorClientId: SANDBOX_DEFAULTS.connectorClientId,
    connectorClientSecret: SANDBOX_DEFAULTS.connectorClientSecret,
    caCertPath: certificates.caCertPath,
    caCertPem: certificates.caCertPem,
    registerWebhook: (registration) => dispatcher.register(registration),
    unregisterWebhook: (id) => dispatcher.unregister(id),
    webhooks: () => dispatcher.registrations(),
    webhookDeliveries: () => [...dispatcher.deliveries],
    webhooksIdle: () => dispatcher.idle(),
    stats: () => ({
      requests: protection.requests,
      throttled: protection.throttled,
      serverTimeMs: protection.serverTimeMs,
      tokensIssued: identityProvider.tokensIssued,
      bulkMessages: { ...bulkMessages },
      requestsByKind: { ...requestsByKind },
    }),
    setLimits: (limits) => protection.setLimits(limits),
    setTokenLifetime: (seconds) => identityProvider.setTokenLifetime(seconds),
    registerClientCertificate: (pem) => identityProvider.registerCertificate(pem),
    withholdPrivilege: (name) => security.withhold(name),
    limitPrivilegeDepth: (name, depth) => security.limitDepth(name, depth),
    restorePrivileges: () => security.restore(),
    records,
    flush: () => persistence?.flush(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      persistence?.flush();
    },
  };
}
