import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { randomUUID } from 'node:crypto';
import { childLogger } from '../../observability/logger';
import { deterministicGuid } from './deterministicId';
import { type ChangeEvent, type MessageName } from './records';
import { isLookupValue, type Row, type StoredValue } from './row';
import { type Schema } from './schema';
import { type RecordStore } from './store';

const log = childLogger({ component: 'dataverse-sandbox-webhooks' });

export type WebhookAuthType = 'WebhookKey' | 'HttpHeader' | 'HttpQueryString';

export interface WebhookRegistration {
  url: string;
  /** Logical name of the table (`salesorder`, `account`, …). */
  entity: string;
  messages: MessageName[];
  authType: WebhookAuthType;
  key: string;
  /** Header name (HttpHeader) or query parameter name (HttpQueryString, default `code`). */
  headerName?: string;
}

export interface StoredWebhook extends WebhookRegistration {
  id: string;
}

export interface WebhookDelivery {
  webhookId: string;
  url: string;
  entity: string;
  message: MessageName;
  recordId: string;
  status: number | 'network-error';
  attempts: number;
  sizeExceeded: boolean;
}

export interface WebhookOptions {
  environmentUrl: string;
  organizationId: string;
  organizationName: string;
  userId: string;
  deliveryDelayMs: number;
  /** One delay per delivery of an event (the chaos run's duplicated, reordered webhooks); `[deliveryDelayMs]` without. */
  deliveryDelays?: (deliveryDelayMs: number) => number[];
  /** Extra CA for https targets (the sandbox CA, so a gateway with a sandbox certificate is reachable). */
  caCertPem: string;
}

const MAX_CONTEXT_BYTES = 256 * 1024;
const RETRY_DELAYS_MS = [100, 400];
const RETRYABLE = new Set([502, 503, 504]);
const DELIVERY_TIMEOUT_MS = 60_000;
const CONTRACT = 'http://schemas.microsoft.com/xrm/2011/Contracts';

const dotNetDate = (iso: string): string => `/Date(${Date.parse(iso)})/`;

/** Delivers RemoteExecutionContext POSTs after commits, shaped like samples/dataverse/webhook-contact-update.json. */
export class WebhookDispatcher {
  private readonly hooks = new Map<string, StoredWebhook>();
  private readonly pending = new Set<Promise<void>>();
  readonly deliveries: WebhookDelivery[] = [];

  constructor(
    private readonly schema: Schema,
    private readonly store: RecordStore,
    private readonly options: WebhookOptions,
    private readonly onChange: () => void,
  ) {}

  register(registration: WebhookRegistration, id: string = randomUUID()): string {
    if (!/^https?:\/\//.test(registration.url)) throw new Error(`webhook url must be http(s): ${registration.url}`);
    this.hooks.set(id, { ...registration, id });
    this.onChange();
    return id;
  }

  unregister(id: string): boolean {
    const removed = this.hooks.delete(id);
    if (removed) this.onChange();
    return removed;
  }

  registrations(): StoredWebhook[] {
    return [...this.hooks.values()];
  }

  /** Settles once every delivery started so far has finished (retries included). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  dispatch(events: ChangeEvent[], tag: string | undefined): void {
    for (const event of events) {
      for (const hook of this.hooks.values()) {
        if (hook.entity !== event.table || !hook.messages.includes(event.message)) continue;
        const context = this.context(event, tag, hook.id);
        const delays = this.options.deliveryDelays?.(this.options.deliveryDelayMs) ?? [this.options.deliveryDelayMs];
        for (const delayMs of delays) {
          const delivery = new Promise<void>((resolve) => setTimeout(resolve, delayMs))
            .then(() => this.deliver(hook, event, context))
            .catch((error: unknown) => log.warn({ err: error, url: hook.url }, 'webhook delivery crashed'));
          this.pending.add(delivery);
          void delivery.finally(() => this.pending.delete(delivery));
        }
      }
    }
  }

  private encode(table: string, column: string, value: StoredValue): unknown {
    const definition = this.schema.tables.get(table)?.columns.get(column);
    if (value === null) return null;
    if (isLookupValue(value)) {
      const target = this.schema.tables.get(value.table);
      const targetRow = this.store.get(value.table, value.id);
      const name = target === undefined ? null : (targetRow?.[target.primaryName] ?? null);
      return {
        __type: `EntityReference:${CONTRACT}`,
        Id: value.id,
        KeyAttributes: [],
        LogicalName: value.table,
        Name: name,
        RowVersion: null,
      };
    }
    switch (definition?.type) {
      case 'choice':
        return { __type: `OptionSetValue:${CONTRACT}`, Value: value };
      case 'money':
        return { __type: `Money:${CONTRACT}`, Value: value };
      case 'datetime':
        return typeof value === 'string' ? dotNetDate(value) : value;
      default:
        return value;
    }
  }

  private entity(table: string, id: string, row: Row, attributes: string[]): Record<string, unknown> {
    return {
      __type: `Entity:${CONTRACT}`,
      Attributes: attributes
        .filter((a) => a in row)
        .map((a) => ({ key: a, value: this.encode(table, a, row[a] ?? null) })),
      EntityState: null,
      FormattedValues: [],
      Id: id,
      KeyAttributes: [],
      LogicalName: table,
      RelatedEntities: [],
      RowVersion: row.versionnumber === undefined ? null : String(row.versionnumber),
    };
  }

  private context(event: ChangeEvent, tag: string | undefined, stepId: string): Record<string, unknown> {
    const table = this.schema.tables.get(event.table);
    const row = this.store.get(event.table, event.id) ?? {};
    const primaryKey = table?.primaryKey ?? `${event.table}id`;
    const primaryName = table?.primaryName ?? 'name';
    const target =
      event.message === 'Delete'
        ? {
            __type: `EntityReference:${CONTRACT}`,
            Id: event.id,
            KeyAttributes: [],
            LogicalName: event.table,
            Name: null,
            RowVersion: null,
          }
        : this.entity(event.table, event.id, row, [...new Set([...event.attributes, primaryKey, 'modifiedon'])]);
    const postImages =
      event.message === 'Delete'
        ? []
        : [
            {
              key: 'AsynchronousStepPrimaryName',
              value: { ...this.entity(event.table, event.id, row, [primaryName, primaryKey]), __type: undefined },
            },
          ];
    const operationId = randomUUID();
    const correlationId = randomUUID();
    const sharedVariables: Array<{ key: string; value: unknown }> = [];
    if (tag !== undefined) sharedVariables.push({ key: 'tag', value: tag });
    sharedVariables.push({ key: 'IsAutoTransact', value: true });
    const base = {
      BusinessUnitId: deterministicGuid('businessunit:root'),
      CorrelationId: correlationId,
      Depth: event.depth,
      InitiatingUserId: this.options.userId,
      IsExecutingOffline: false,
      IsInTransaction: false,
      IsOfflinePlayback: false,
      IsolationMode: 1,
      MessageName: event.message,
      Mode: 1,
      OperationCreatedOn: `/Date(${Date.now()}+0000)/`,
      OperationId: operationId,
      OrganizationId: this.options.organizationId,
      OrganizationName: this.options.organizationName,
      OutputParameters: event.message === 'Create' ? [{ key: 'id', value: event.id }] : [],
      OwningExtension: {
        Id: stepId,
        KeyAttributes: [],
        LogicalName: 'sdkmessageprocessingstep',
        Name: null,
        RowVersion: null,
      },
      PrimaryEntityId: event.id,
      PrimaryEntityName: event.table,
      RequestId: null,
      SecondaryEntityName: 'none',
      UserId: this.options.userId,
    };
    // WinOpportunity's context carries its parameters, the OpportunityClose entity and the Status, not a Target.
    const closeRow = event.close ? this.store.get('opportunityclose', event.close.activityId) : undefined;
    const input =
      event.message === 'Win' && event.close && closeRow
        ? [
            {
              key: 'OpportunityClose',
              value: this.entity('opportunityclose', event.close.activityId, closeRow, Object.keys(closeRow)),
            },
            { key: 'Status', value: { __type: `OptionSetValue:${CONTRACT}`, Value: event.close.status } },
          ]
        : [{ key: 'Target', value: target }];
    return {
      ...base,
      InputParameters: input,
      ParentContext: {
        ...base,
        InputParameters: input,
        ParentContext: null,
        PostEntityImages: [],
        PreEntityImages: [],
        SharedVariables: sharedVariables,
        Stage: 30,
      },
      PostEntityImages: postImages,
      PreEntityImages: [],
      SharedVariables: sharedVariables,
      Stage: 40,
    };
  }

  private async deliver(hook: StoredWebhook, event: ChangeEvent, context: Record<string, unknown>): Promise<void> {
    let body = JSON.stringify(context);
    let sizeExceeded = false;
    if (Buffer.byteLength(body) > MAX_CONTEXT_BYTES) {
      // Dataverse strips the bulky parts and flags it; the receiver re-reads the row.
      body = JSON.stringify({
        ...context,
        ParentContext: null,
        InputParameters: [],
        PreEntityImages: [],
        PostEntityImages: [],
      });
      sizeExceeded = true;
    }
    const url = new URL(hook.url);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'x-request-id': randomUUID(),
      'x-ms-dynamics-organization': new URL(this.options.environmentUrl).host,
      'x-ms-dynamics-entity-name': event.table,
      'x-ms-dynamics-request-name': event.message,
      'x-ms-correlation-request-id': String(context.CorrelationId),
    };
    if (sizeExceeded) headers['x-ms-dynamics-msg-size-exceeded'] = 'true';
    switch (hook.authType) {
      case 'WebhookKey':
        // Azure Functions style: both the query parameter Dataverse sends and the equivalent header.
        url.searchParams.set('code', hook.key);
        headers['x-functions-key'] = hook.key;
        break;
      case 'HttpHeader':
        headers[hook.headerName ?? 'x-api-key'] = hook.key;
        break;
      case 'HttpQueryString':
        url.searchParams.set(hook.headerName ?? 'code', hook.key);
        break;
    }
    let attempts = 0;
    let status: number | 'network-error' = 'network-error';
    for (;;) {
      attempts += 1;
      status = await this.post(url, headers, body);
      const retryable = status === 'network-error' || RETRYABLE.has(status);
      const delay = RETRY_DELAYS_MS[attempts - 1];
      if (!retryable || delay === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    this.deliveries.push({
      webhookId: hook.id,
      url: hook.url,
      entity: event.table,
      message: event.message,
      recordId: event.id,
      status,
      attempts,
      sizeExceeded,
    });
    if (status === 'network-error' || status < 200 || status >= 300) {
      log.warn({ url: hook.url, status, attempts, entity: event.table }, 'webhook delivery failed');
    }
  }

  private post(url: URL, headers: Record<string, string>, body: string): Promise<number | 'network-error'> {
    return new Promise((resolve) => {
      const options = {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        timeout: DELIVERY_TIMEOUT_MS,
      };
      const request =
        url.protocol === 'https:'
          ? https.request(url, { ...options, ca: [...tls.rootCertificates, this.options.caCertPem] })
          : http.request(url, options);
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => resolve('network-error'));
      request.end(body);
    });
  }
}
