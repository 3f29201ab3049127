import type { WebhookRegistration } from './applicationUser';

/**
 * The webhook the connector needs on the organisation, one per connection: a service endpoint (contract 8, WebhookKey)
 * at `<gateway>/webhooks/dataverse/<connection>` and these SDK message processing steps on it (PostOperation,
 * asynchronous). The sandbox registers them, docs/deployment.md §6 tells an administrator to, and `qbsync check`
 * verifies them; a test keeps the documentation's table in step and another the tables with the gateway's receiver.
 */

export type WebhookMessage = 'Create' | 'Update' | 'Win';

export interface ConnectorWebhookStep {
  /** The step's primary entity (logical name). */
  table: string;
  message: WebhookMessage;
  /** What reaches QuickBooks at once thanks to it (otherwise at the next poll). */
  why: string;
}

export const CONNECTOR_WEBHOOK_STEPS: readonly ConnectorWebhookStep[] = [
  { table: 'salesorder', message: 'Create', why: 'a new order becomes a QuickBooks invoice' },
  { table: 'salesorder', message: 'Update', why: "an order's changes reach its QuickBooks invoice" },
  { table: 'account', message: 'Create', why: 'a new account becomes a QuickBooks customer' },
  { table: 'account', message: 'Update', why: "an account's changes reach its QuickBooks customer" },
  { table: 'product', message: 'Create', why: 'a new product becomes a QuickBooks item' },
  { table: 'product', message: 'Update', why: "a product's changes reach its QuickBooks item" },
  // That WinOpportunity raises `Win` on the opportunity (not an Update) is an assumption the sandbox models.
  { table: 'opportunity', message: 'Win', why: 'a won opportunity makes its account a customer (and an estimate)' },
];

/** The steps grouped by table, in the order above: what one registration per table carries. */
export function connectorWebhookTables(): Array<{ table: string; messages: WebhookMessage[] }> {
  const tables = new Map<string, WebhookMessage[]>();
  for (const step of CONNECTOR_WEBHOOK_STEPS) {
    const messages = tables.get(step.table) ?? [];
    messages.push(step.message);
    tables.set(step.table, messages);
  }
  return [...tables].map(([table, messages]) => ({ table, messages }));
}

/** The address a connection's webhook must call: `<gateway public URL>/webhooks/dataverse/<connection>`. */
export function connectorWebhookUrl(gatewayPublicUrl: string, connection: string): string {
  return `${gatewayPublicUrl.replace(/\/+$/, '')}/webhooks/dataverse/${connection}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}

/**
 * Whether a registered URL reaches this gateway's receiver for `connection` (loopback names count as one host). The
 * receiver's path without a connection serves the first connection (`isDefault`).
 */
function reachesConnection(url: string, gatewayPublicUrl: string, connection: string, isDefault: boolean): boolean {
  let registered: URL;
  let gateway: URL;
  try {
    registered = new URL(url);
    gateway = new URL(gatewayPublicUrl);
  } catch {
    return false;
  }
  const sameHost =
    registered.host === gateway.host ||
    (isLoopback(registered.hostname) && isLoopback(gateway.hostname) && registered.port === gateway.port);
  if (!sameHost || registered.protocol !== gateway.protocol) return false;
  const base = `${gateway.pathname.replace(/\/+$/, '')}/webhooks/dataverse`;
  const path = registered.pathname.replace(/\/+$/, '');
  return path === `${base}/${connection}` || (isDefault && path === base);
}

/** A step the connection lacks, and where a step of that message and table points instead, if anywhere. */
export interface MissingWebhookStep extends ConnectorWebhookStep {
  /** URLs of other gateways (not this one's, for any connection) that have this step. */
  elsewhere: string[];
}

export interface WebhookAudit {
  /** URLs on this gateway for the connection that carry its steps. */
  reaching: string[];
  missing: MissingWebhookStep[];
}

/**
 * What of the connector's steps reach `connection` on this gateway. A registration for another configured connection
 * on this gateway is that connection's own, not a misdirected one; anything else is "elsewhere" (another gateway, an
 * old host name).
 */
export function auditConnectionWebhook(
  registrations: readonly WebhookRegistration[],
  target: { gatewayPublicUrl: string; connection: string; connections: readonly string[] },
): WebhookAudit {
  const isDefaultOf = (name: string): boolean => target.connections[0] === name;
  const ours = registrations.filter((r) =>
    reachesConnection(r.url, target.gatewayPublicUrl, target.connection, isDefaultOf(target.connection)),
  );
  const otherGateway = registrations.filter(
    (r) =>
      !target.connections.some((name) => reachesConnection(r.url, target.gatewayPublicUrl, name, isDefaultOf(name))),
  );
  const has = (r: WebhookRegistration, step: ConnectorWebhookStep): boolean =>
    r.steps.some((s) => s.enabled && s.table === step.table && s.message === step.message);
  const missing = CONNECTOR_WEBHOOK_STEPS.filter((step) => !ours.some((r) => has(r, step))).map((step) => ({
    ...step,
    elsewhere: [...new Set(otherGateway.filter((r) => has(r, step)).map((r) => r.url))],
  }));
  return { reaching: [...new Set(ours.map((r) => r.url))], missing };
}
