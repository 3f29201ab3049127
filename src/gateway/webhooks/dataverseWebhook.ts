import express, { type Request, type Response, type Router } from 'express';
import { type Logger } from 'pino';
import { type WebhookConnection } from '../../config/deployment';
import {
  parseRemoteExecutionContext,
  WebhookPayloadError,
  type DataverseChange,
} from '../../dataverse/remoteExecutionContext';
import { WEBHOOK_TABLES } from '../../mapping/entityRegistry';
import { recordWebhookDelivery } from '../../observability/metrics';
import { type DataverseChangeSummary } from '../../workflows/dataverseChangeSummary';
import { readBoundedBody } from './boundedBody';
import { summarizeDataverseChange } from './changeSummary';
import { authenticateWebhook } from './webhookAuth';

const dataverseWebhookPath = '/webhooks/dataverse';

/**
 * Dataverse strips the body when the execution context exceeds 256 KB (reference/dataverse.md §8.3), so a legitimate
 * delivery is never much bigger; the margin covers serialisation overhead we cannot measure from here.
 */
export const defaultMaxWebhookBodyBytes = 256 * 1024 + 64 * 1024;

export interface DataverseWebhookDeps {
  /** `undefined` name = the URL named no connection (`/webhooks/dataverse`): the default one, if any. */
  resolveConnection: (connectionName?: string) => WebhookConnection | undefined;
  /** The `?tag=` value the connector puts on its own Dataverse writes; deliveries carrying it are our echoes. */
  tag: string;
  startRecordSync: (change: DataverseChangeSummary, connection: string) => Promise<{ workflowId: string }>;
  log: Logger;
  maxBodyBytes?: number;
}

const sizeExceededHeader = 'x-ms-dynamics-msg-size-exceeded';

function headerText(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function reply(res: Response, status: number, body: Record<string, unknown>, close = false): void {
  if (close) res.setHeader('connection', 'close');
  res.status(status).json(body);
}

/**
 * A shortened delivery keeps the top-level ids but loses InputParameters, images and ParentContext. Fill what the
 * headers also carry, so a body without `PrimaryEntityName` still tells us which table changed.
 */
function withHeaderFallbacks(body: unknown, req: Request): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const filled: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const fallbacks: [field: string, header: string][] = [
    ['PrimaryEntityName', 'x-ms-dynamics-entity-name'],
    ['MessageName', 'x-ms-dynamics-request-name'],
    ['CorrelationId', 'x-ms-correlation-request-id'],
  ];
  for (const [field, header] of fallbacks) {
    const fromHeader = headerText(req, header);
    if ((filled[field] === undefined || filled[field] === null) && fromHeader !== undefined) filled[field] = fromHeader;
  }
  return filled;
}

function decodeJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  // .NET writers sometimes lead with a UTF-8 byte-order mark, which JSON.parse rejects.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim().length === 0)
    return { ok: false, message: 'empty body: expected a RemoteExecutionContext JSON object' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, message: `malformed JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * Receiver for Dataverse webhook deliveries (service endpoints with contract 8). It authenticates, parses, drops our
 * own echoes and hands each change to the record's workflow by signal-with-start; the sync itself never runs here,
 * so the answer comes well inside Dataverse's 60 s timeout. Routes carry the full path: mount with `app.use(router)`,
 * before any app-wide body parser (the body is read here, after authentication, with its own size limit).
 */
export function dataverseWebhookRouter(deps: DataverseWebhookDeps): Router {
  const router = express.Router();
  const maxBodyBytes = deps.maxBodyBytes ?? defaultMaxWebhookBodyBytes;

  const handle = async (req: Request, res: Response, connectionName: string | undefined): Promise<void> => {
    // Never log the URL: with WebhookKey / HttpQueryString auth the query string is the secret.
    const log = deps.log.child({
      webhook: 'dataverse',
      connection: connectionName ?? '(default)',
      correlationId: headerText(req, 'x-ms-correlation-request-id'),
    });

    const connection = deps.resolveConnection(connectionName);
    if (!connection) {
      // Same answer as a wrong key, so callers cannot probe which connection names exist.
      log.warn('webhook for an unknown connection rejected');
      recordWebhookDelivery('rejected-auth');
      reply(res, 401, { error: 'unauthorized' });
      return;
    }
    const auth = authenticateWebhook(connection.auth, req.headers, req.query as Record<string, unknown>);
    if (!auth.ok) {
      if (auth.reason === 'misconfigured')
        log.error({ authKind: connection.auth.kind }, 'webhook auth is misconfigured');
      else log.warn({ reason: auth.reason, authKind: connection.auth.kind }, 'webhook rejected: bad credentials');
      recordWebhookDelivery('rejected-auth');
      reply(res, 401, { error: 'unauthorized' }, true);
      return;
    }

    const body = await readBoundedBody(req, maxBodyBytes);
    if (body.kind === 'aborted') {
      log.warn('webhook body aborted by the caller');
      return;
    }
    if (body.kind === 'tooLarge') {
      // Dataverse retries only 502/503/504, so it will not resend this; the change is not lost because the poll
      // cycle picks up every row modified since its cursor, and the failure shows on the step's System Job.
      log.warn(
        {
          receivedBytes: body.receivedBytes,
          declaredBytes: body.declaredBytes,
          limitBytes: maxBodyBytes,
          entity: headerText(req, 'x-ms-dynamics-entity-name'),
        },
        'webhook body over the size limit; the next poll will pick the change up',
      );
      recordWebhookDelivery('bad-request');
      reply(res, 413, { error: `body larger than ${maxBodyBytes} bytes`, limitBytes: maxBodyBytes }, true);
      return;
    }

    const decoded = decodeJson(body.bytes);
    if (!decoded.ok) {
      log.warn({ reason: decoded.message }, 'webhook body is not JSON');
      recordWebhookDelivery('bad-request');
      reply(res, 400, { error: decoded.message });
      return;
    }

    const sizeExceeded = req.headers[sizeExceededHeader] !== undefined;
    let change: DataverseChange;
    try {
      change = parseRemoteExecutionContext(sizeExceeded ? withHeaderFallbacks(decoded.value, req) : decoded.value);
    } catch (error) {
      if (!(error instanceof WebhookPayloadError)) throw error;
      log.warn({ reason: error.message }, 'webhook body is not a RemoteExecutionContext');
      recordWebhookDelivery('bad-request');
      reply(res, 400, { error: error.message });
      return;
    }

    const changeLog = log.child({ entity: change.entityName, id: change.entityId, message: change.messageName });
    if (change.sharedVariables.tag === deps.tag) {
      changeLog.debug('echo of our own write ignored');
      recordWebhookDelivery('ignored-echo');
      reply(res, 202, { ignored: 'echo' });
      return;
    }
    if (!WEBHOOK_TABLES.has(change.entityName)) {
      changeLog.info('webhook for an unsupported table ignored');
      recordWebhookDelivery('ignored-entity');
      reply(res, 202, { ignored: 'entity' });
      return;
    }

    const summary = summarizeDataverseChange(change, sizeExceeded);
    try {
      const { workflowId } = await deps.startRecordSync(summary, connection.name);
      changeLog.info({ workflowId, needsRead: summary.needsRead }, 'record sync signalled');
      recordWebhookDelivery('accepted');
      reply(res, 202, { workflowId });
    } catch (error) {
      // 503 is one of the codes Dataverse retries; the poll cycle is the backstop if the retry fails too.
      changeLog.error({ err: error }, 'could not signal the record sync');
      recordWebhookDelivery('unavailable');
      reply(res, 503, { error: 'could not hand the change to the workflow engine; retry later' });
    }
  };

  router.post(dataverseWebhookPath, (req, res) => handle(req, res, undefined));
  router.post(`${dataverseWebhookPath}/:connection`, (req, res) => handle(req, res, req.params.connection));
  return router;
}
