import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { companyTimeZoneSchema, connectionSchema } from './connections';
import { syncSettingsSchema } from './syncSettings';

/**
 * The operator's configuration file (`<dataDir>/qbsync.yaml`, or the path in `QBSYNC_CONFIG`): where Temporal and the
 * gateway are, which Dataverse organisation to reach, and one entry per QuickBooks company file. YAML or JSON.
 *
 * Secrets never sit in this file: every secret is a reference (`secret:<name>` or `env:<VAR>`) resolved at run time,
 * so the file can be reviewed, versioned and shown in support tickets without leaking anything.
 */

export const configFileEnvVariable = 'QBSYNC_CONFIG';

export function configFilePath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[configFileEnvVariable] || join(dataDir, 'qbsync.yaml');
}

// Same rule as the secret store's names (src/config/secrets.ts), so whatever passes here can be looked up there.
const secretNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const envVariablePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export type SecretReference = { kind: 'secret'; name: string } | { kind: 'env'; variable: string };

/** Splits a reference into where its value lives; undefined for anything that is not a well-formed reference. */
export function parseSecretReference(text: string): SecretReference | undefined {
  if (text.startsWith('secret:')) {
    const name = text.slice('secret:'.length);
    return secretNamePattern.test(name) ? { kind: 'secret', name } : undefined;
  }
  if (text.startsWith('env:')) {
    const variable = text.slice('env:'.length);
    return envVariablePattern.test(variable) ? { kind: 'env', variable } : undefined;
  }
  return undefined;
}

const literalSecretMessage =
  'a secret reference (secret:<name> or env:<VAR>) is required, not a literal value: store the value with ' +
  '`qbsync secrets set <name>` and write secret:<name>, or put it in an environment variable of the worker and ' +
  'gateway and write env:<VAR>';

/**
 * Messages here must never quote the rejected text: whatever was written in a secret's place may be the secret itself.
 */
const secretReferenceSchema = z
  .string({ error: 'a secret reference (secret:<name> or env:<VAR>) is required' })
  .superRefine((text, ctx) => {
    if (parseSecretReference(text)) return;
    let message = literalSecretMessage;
    if (text.startsWith('secret:')) {
      message =
        'secret:<name> needs a name of lower-case letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit';
    } else if (text.startsWith('env:')) {
      message = 'env:<VAR> needs an environment variable name: letters, digits and "_", not starting with a digit';
    }
    ctx.addIssue({ code: 'custom', message });
  });

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]';
}

function httpsUrl(what: string, { allowLoopbackHttp }: { allowLoopbackHttp: boolean }) {
  return z
    .string()
    .superRefine((text, ctx) => {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} must be an absolute URL such as https://host.example.com` });
        return;
      }
      const plainHttpAllowed = allowLoopbackHttp && url.protocol === 'http:' && isLoopback(url.hostname);
      if (url.protocol !== 'https:' && !plainHttpAllowed) {
        ctx.addIssue({
          code: 'custom',
          message: allowLoopbackHttp
            ? `${what} must use https:// (the Web Connector refuses plain http except on localhost)`
            : `${what} must use https://`,
        });
      }
      if (url.search || url.hash)
        ctx.addIssue({ code: 'custom', message: `${what} must not carry a query or fragment` });
      if (url.username || url.password) ctx.addIssue({ code: 'custom', message: `${what} must not carry credentials` });
    })
    .transform((text) => text.replace(/\/+$/, ''));
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const domainPattern = /^(?=.{1,253}$)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
const temporalAddressPattern = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$/;

/** Units Temporal's schedule interval and the SDK's duration strings both understand; a poll below a minute is a mistake. */
const pollIntervalPattern = /^[1-9]\d*(?:m|h|d)$/;

const port = z.number().int().min(1, 'must be a port number, 1-65535').max(65535, 'must be a port number, 1-65535');

const hostNamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * A PEM from a file (relative paths are taken from the configuration file's folder) or from a secret reference
 * (`secret:<name>`, `env:<VAR>`) whose value is the PEM text. PEM text itself does not belong in the file: a key
 * written there would be a secret in clear, and the message must not quote it.
 */
const pemSourceSchema = z
  .string()
  .min(1, 'is required')
  .superRefine((text, ctx) => {
    if (text.includes('-----BEGIN')) {
      ctx.addIssue({
        code: 'custom',
        message:
          'give a file path or a secret reference (secret:<name> or env:<VAR>), not the PEM text itself: a key written into this file is a secret in clear',
      });
    } else if ((text.startsWith('secret:') || text.startsWith('env:')) && !parseSecretReference(text)) {
      ctx.addIssue({ code: 'custom', message: 'is not a well-formed secret reference (secret:<name> or env:<VAR>)' });
    }
  });

/** Mutual TLS or server-verified TLS to the Temporal frontend (Temporal Cloud, a secured cluster). */
const temporalTlsSchema = z
  .strictObject({
    /** CA that signed the server's certificate; without it the system's trusted CAs (enough for Temporal Cloud). */
    serverCa: pemSourceSchema.optional(),
    /** Client certificate (chain) for mutual TLS, with its key. */
    clientCert: pemSourceSchema.optional(),
    clientKey: pemSourceSchema.optional(),
    /** The name the server's certificate carries, when the address's host is another (a load balancer, an IP). */
    serverName: z.string().regex(hostNamePattern, 'must be a DNS name, e.g. temporal.internal.example.com').optional(),
  })
  .superRefine(
    (tls, ctx) => {
      const cert = valueAt(tls, 'clientCert') !== undefined;
      const key = valueAt(tls, 'clientKey') !== undefined;
      if (cert && !key) ctx.addIssue({ code: 'custom', path: ['clientKey'], message: 'is required with clientCert' });
      if (key && !cert) ctx.addIssue({ code: 'custom', path: ['clientCert'], message: 'is required with clientKey' });
    },
    { when: () => true },
  );

const temporalSchema = z.strictObject({
  address: z.string().regex(temporalAddressPattern, 'must be host:port, e.g. temporal:7233').default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  taskQueue: z.string().min(1).default('qb-d365-sync'),
  /** Absent: plain text, as the local dev server and a cluster on a private network speak. */
  tls: temporalTlsSchema.optional(),
  /** API key authentication (Temporal Cloud); implies TLS with the system's CAs unless `tls` says more. */
  apiKey: secretReferenceSchema.optional(),
});

const gatewaySchema = z.strictObject({
  /** Bind address inside the host or container; the public side is `publicUrl`. */
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8080),
  /** Base URL the Web Connector and Dataverse reach the gateway at (the `.QWC` file gets `<publicUrl>/qbwc`). */
  publicUrl: httpsUrl('publicUrl', { allowLoopbackHttp: true }),
});

const dataverseSchema = z
  .strictObject({
    environmentUrl: httpsUrl('environmentUrl', { allowLoopbackHttp: false }),
    tenantId: z
      .string()
      .refine(
        (t) => guidPattern.test(t) || domainPattern.test(t),
        'must be the Entra tenant id (a GUID) or its domain, e.g. contoso.onmicrosoft.com',
      ),
    clientId: z.string().regex(guidPattern, "must be the app registration's Application (client) ID, a GUID"),
    /** The app registration's client secret; or, where the tenant forbids secrets, `clientCertificate`. Exactly one. */
    clientSecret: secretReferenceSchema.optional(),
    clientCertificate: z
      .strictObject({
        /** The certificate uploaded to the app registration (PEM); its SHA-256 thumbprint names it to Entra. */
        certificate: pemSourceSchema,
        /** Its private key (PKCS#8 PEM), as a file or a secret reference. */
        privateKey: pemSourceSchema,
        /** Send the certificate chain (`x5c`): needed for subject name / issuer authentication, harmless otherwise. */
        sendX5c: z.boolean().default(false),
      })
      .optional(),
    /**
     * A signed JWT-bearer client assertion, read from this file at every token request: workload identity federation
     * (AKS writes the file named by AZURE_FEDERATED_TOKEN_FILE and renews it) or an external signer such as an HSM.
     */
    clientAssertionFile: z.string().min(1).optional(),
    /** Only for clouds other than the public one, or a test identity provider. */
    authority: httpsUrl('authority', { allowLoopbackHttp: false }).optional(),
    /** Extra CA for a TLS-inspecting proxy or a test environment; relative paths are taken from the file's folder. */
    caCertPath: z.string().min(1).optional(),
    /**
     * How long a worker answers record runs from its last read of the choice options (customer types, terms): an
     * option a person adds in Dynamics is seen within this time, one the connector adds at once; 0 reads each time.
     */
    choiceOptionsMaxAgeSeconds: z.number().min(0).default(60),
  })
  .superRefine(
    (dataverse, ctx) => {
      const given = (['clientSecret', 'clientCertificate', 'clientAssertionFile'] as const).filter(
        (field) => valueAt(dataverse, field) !== undefined,
      );
      if (given.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [given[1]!],
          message: `give one of clientSecret, clientCertificate and clientAssertionFile, not ${given.join(' and ')}: the app signs in with exactly one credential`,
        });
      } else if (given.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['clientSecret'],
          message: 'is required (or clientCertificate or clientAssertionFile, where the tenant forbids client secrets)',
        });
      }
    },
    { when: () => true },
  );

const governorSchema = z.strictObject({
  // Dataverse refuses more than 52 concurrent requests per user (reference/dataverse.md §6).
  maxConcurrent: z
    .number()
    .int()
    .min(1)
    .max(52, 'must be at most 52, the Dataverse per-user concurrency limit')
    .default(16),
  requestsPerWindow: z.number().int().min(1).default(6000),
  windowSeconds: z.number().int().min(1).default(300),
});

const batchingSchema = z.strictObject({
  maxRequestsPerRoundTrip: z.number().int().min(1).default(100),
  maxRecordsPerRoundTrip: z.number().int().min(1).default(500),
  /** A workflow waiting for QuickBooks fails after this long without an answer, naming when the Web Connector came last. */
  quickbooksWaitHours: z.number().positive().default(72),
});

/**
 * Workflows a worker keeps in memory between their tasks (the SDK's `maxCachedWorkflows`). A cached workflow costs the
 * worker memory for as long as it runs; an evicted one (least recently used first) costs a replay of its history when
 * its next task comes. Left to the SDK a worker caches about 600 workflows per GiB of heap limit (some 2,300 on a
 * 4 GiB limit). Measured at scale 1 (issue 15), a bound of 250 did not lower the worker's peak (1,073.9 MiB against
 * 1,108.6 without a bound: the cache is not what grows) and slowed the load (QuickBooks customers into Dynamics 30 a
 * second against 47), the evicted poll cycles and company files, whose histories run to megabytes, being replayed. So
 * the default stays near the SDK's on a 4 GiB heap, but fixed: a bound that does not move with the heap limit.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 2000;

const workerSchema = z.strictObject({
  maxCachedWorkflows: z
    .number()
    .int('must be a whole number of workflows')
    .min(
      2,
      "must be at least 2, the SDK's smallest cache (none at all would replay each workflow's whole history at every task)",
    )
    .default(DEFAULT_MAX_CACHED_WORKFLOWS),
});

/** Reads a nested value of data that may not have passed validation. */
function valueAt(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function textAt(value: unknown, ...keys: string[]): string | undefined {
  const found = valueAt(value, ...keys);
  return typeof found === 'string' ? found : undefined;
}

const webhookSchema = z
  .strictObject({
    kind: z.enum(['WebhookKey', 'HttpHeader', 'HttpQueryString']),
    key: secretReferenceSchema,
    /**
     * Key rotation: the key being replaced, still accepted until `previousKeyUntil`, so deliveries Dataverse sends
     * with the old key while the service endpoint is being updated are not refused.
     */
    previousKey: secretReferenceSchema.optional(),
    /** When the previous key stops being accepted (ISO 8601); required with `previousKey`, so no rotation stays open. */
    previousKeyUntil: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-01-31T00:00:00Z' })
      .optional(),
    /** HttpHeader: the header Dataverse sends; HttpQueryString: the parameter name (default `code`). */
    headerName: z.string().min(1).optional(),
  })
  .superRefine(
    (webhook, ctx) => {
      if (valueAt(webhook, 'kind') === 'HttpHeader' && !valueAt(webhook, 'headerName')) {
        ctx.addIssue({ code: 'custom', path: ['headerName'], message: 'is required when kind is HttpHeader' });
      }
      const previousKey = valueAt(webhook, 'previousKey') !== undefined;
      const until = valueAt(webhook, 'previousKeyUntil') !== undefined;
      if (previousKey && !until) {
        ctx.addIssue({
          code: 'custom',
          path: ['previousKeyUntil'],
          message: 'is required with previousKey: say when the rotation window closes',
        });
      }
      if (until && !previousKey) {
        ctx.addIssue({ code: 'custom', path: ['previousKey'], message: 'is required with previousKeyUntil' });
      }
    },
    { when: () => true },
  );

const scheduleSchema = z.strictObject({
  every: z
    .string()
    .regex(pollIntervalPattern, 'must be a whole number of minutes, hours or days, such as 15m, 1h or 24h')
    .default('1h'),
  paused: z.boolean().default(false),
});

const connectionEntrySchema = z.strictObject({
  name: connectionSchema.shape.name,
  companyFileLabel: z.string().min(1),
  qbwc: z.strictObject({
    userName: z.string().min(1),
    password: secretReferenceSchema,
    companyFilePath: z.string().default(''),
    timeZone: companyTimeZoneSchema.optional(),
  }),
  webhook: webhookSchema.optional(),
  schedule: scheduleSchema.default({ every: '1h', paused: false }),
  sync: syncSettingsSchema,
});

/** Rules no single connection can check on its own. */
function checkAcrossConnections(connections: unknown, ctx: z.RefinementCtx): void {
  if (!Array.isArray(connections)) return;
  const firstByName = new Map<string, number>();
  const firstByUser = new Map<string, number>();
  let receiver: number | undefined;
  connections.forEach((connection: unknown, index) => {
    const name = textAt(connection, 'name');
    const sameName = name === undefined ? undefined : firstByName.get(name);
    if (name !== undefined && sameName === undefined) firstByName.set(name, index);
    if (sameName !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections', index, 'name'],
        message: `"${name}" is already the name of connections[${sameName}]; names must be unique`,
      });
    }
    // The gateway picks the connection from the user name QBWC presents, so a shared one would be ambiguous.
    const userName = textAt(connection, 'qbwc', 'userName');
    const sameUser = userName === undefined ? undefined : firstByUser.get(userName);
    if (userName !== undefined && sameUser === undefined) firstByUser.set(userName, index);
    if (sameUser !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections', index, 'qbwc', 'userName'],
        message: `already used by connections[${sameUser}]; each connection needs its own Web Connector user name`,
      });
    }
    if (valueAt(connection, 'sync', 'receivesNewAccounts') !== true) return;
    if (receiver === undefined) receiver = index;
    else {
      ctx.addIssue({
        code: 'custom',
        path: ['connections', index, 'sync', 'receivesNewAccounts'],
        message: `connections[${receiver}] already receives new accounts; at most one connection may, or each new account would be created in several company files`,
      });
    }
  });
}

export const connectorConfigSchema = z
  .strictObject({
    temporal: temporalSchema.default({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'qb-d365-sync' }),
    gateway: gatewaySchema,
    dataverse: dataverseSchema,
    governor: governorSchema.default({ maxConcurrent: 16, requestsPerWindow: 6000, windowSeconds: 300 }),
    batching: batchingSchema.default({
      maxRequestsPerRoundTrip: 100,
      maxRecordsPerRoundTrip: 500,
      quickbooksWaitHours: 72,
    }),
    worker: workerSchema.default({ maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS }),
    connections: z.array(connectionEntrySchema).min(1, 'list at least one connection (one per company file)'),
  })
  // Run even when fields elsewhere failed, so one pass reports every problem; hence the defensive reads below.
  .superRefine((config, ctx) => checkAcrossConnections(config.connections, ctx), { when: () => true });

export type ConnectorConfig = z.output<typeof connectorConfigSchema>;

/** Thrown with every problem found, so an operator fixes the file in one pass instead of one error per attempt. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(`${path}: ${problems.length === 1 ? 'problem' : `${problems.length} problems`}:\n  ${problems.join('\n  ')}`);
  }
}

/** `connections[1].qbwc.password`: the notation an operator reading the YAML recognises. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      const key = String(segment);
      text += /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${text ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return text || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${fieldPath([...issue.path, key])}: is not a known setting (misspelt?)`);
  }
  return [`${fieldPath(issue.path)}: ${issue.message}`];
}

/** Validates already-parsed data; `baseDir` anchors relative file paths inside it. */
function parseConnectorConfig(data: unknown, source: string, baseDir: string): ConnectorConfig {
  const parsed = connectorConfigSchema.safeParse(data, {
    // A missing field is the commonest mistake; "expected string, received undefined" says it less plainly.
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined),
  });
  if (!parsed.success) throw new ConfigFileError(source, parsed.error.issues.flatMap(describeIssue));
  const config = parsed.data;
  const caCertPath = config.dataverse.caCertPath;
  if (caCertPath !== undefined && !isAbsolute(caCertPath)) config.dataverse.caCertPath = resolve(baseDir, caCertPath);
  const assertionFile = config.dataverse.clientAssertionFile;
  if (assertionFile !== undefined && !isAbsolute(assertionFile)) {
    config.dataverse.clientAssertionFile = resolve(baseDir, assertionFile);
  }
  const certificate = config.dataverse.clientCertificate;
  if (certificate) {
    for (const field of ['certificate', 'privateKey'] as const) {
      const source = certificate[field];
      if (!parseSecretReference(source) && !isAbsolute(source)) certificate[field] = resolve(baseDir, source);
    }
  }
  const tls = config.temporal.tls;
  if (tls) {
    for (const field of ['serverCa', 'clientCert', 'clientKey'] as const) {
      const source = tls[field];
      if (source !== undefined && !parseSecretReference(source) && !isAbsolute(source)) {
        tls[field] = resolve(baseDir, source);
      }
    }
  }
  return config;
}

export function loadConfigFile(path: string): ConnectorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(path, [
      code === 'ENOENT'
        ? `no such file; copy config/qbsync.example.yaml there, or point ${configFileEnvVariable} at the file`
        : `cannot be read (${code ?? String(error)})`,
    ]);
  }
  // YAML 1.2 reads JSON as well, so one parser serves both formats.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigFileError(
      path,
      document.errors.map((e) => `line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? e.code}`),
    );
  }
  return parseConnectorConfig(document.toJS(), path, dirname(resolve(path)));
}
