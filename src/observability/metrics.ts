import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { type GovernorSnapshot } from '../dataverse/rateGovernor';

/**
 * The process's Prometheus metrics. One registry per process so the gateway's `/metrics` and the worker's metrics
 * server expose everything the process counts, whichever module counted it. (Temporal's own SDK metrics are served
 * by the SDK runtime on a port of their own: they come from Rust core, not from this registry.)
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export type SyncDirection = 'quickbooks-to-dataverse' | 'dataverse-to-quickbooks';
/** Same vocabulary as the `SyncOutcome` search attribute, so a spike here can be looked up in Temporal. */
export type SyncedOutcome = 'created' | 'updated' | 'unchanged' | 'conflict' | 'deleted' | 'failed';
/** What `authenticate` answered: a session (`ok`), nothing to do (`none`), another session open (`busy`), bad credentials (`nvu`). */
export type QbwcSessionResult = 'ok' | 'none' | 'busy' | 'nvu';
export type WebhookDeliveryResult =
  'accepted' | 'rejected-auth' | 'ignored-echo' | 'ignored-entity' | 'bad-request' | 'unavailable';

const recordsSynced = new Counter({
  name: 'qbsync_records_synced_total',
  help: 'Records a sync finished, by entity, direction and outcome',
  labelNames: ['entity', 'direction', 'outcome'] as const,
  registers: [metricsRegistry],
});

const qbwcSessions = new Counter({
  name: 'qbsync_qbwc_sessions_total',
  help: 'QuickBooks Web Connector authenticate calls, by connection and answer',
  labelNames: ['connection', 'result'] as const,
  registers: [metricsRegistry],
});

const qbwcRoundTrips = new Counter({
  name: 'qbsync_qbwc_round_trips_total',
  help: 'qbXML responses received from the QuickBooks Web Connector (receiveResponseXML calls)',
  labelNames: ['connection'] as const,
  registers: [metricsRegistry],
});

const companyFileUnanswered = new Counter({
  name: 'qbsync_company_file_unanswered_calls_total',
  help: "Web Connector calls the company file's workflow did not answer in time (stuck: no worker, or failing workflow tasks)",
  labelNames: ['connection', 'call'] as const,
  registers: [metricsRegistry],
});

const companyFileConsecutiveUnanswered = new Gauge({
  name: 'qbsync_company_file_consecutive_unanswered_calls',
  help: "Web Connector calls in a row the company file's workflow did not answer; 0 once it answers again. Alert when above 0",
  labelNames: ['connection'] as const,
  registers: [metricsRegistry],
});
const consecutiveUnanswered = new Map<string, number>();

const webhookDeliveries = new Counter({
  name: 'qbsync_webhook_deliveries_total',
  help: 'Dataverse webhook deliveries received, by what the gateway did with them',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** Called by the sync activities once a record's write (or decision not to write) is final. */
export function recordSynced(entity: string, direction: SyncDirection, outcome: SyncedOutcome): void {
  recordsSynced.inc({ entity, direction, outcome });
}

/** `connection` is the connection the user name belongs to, or `unknown` when it matches none (never the user name: it would let anyone mint label values). */
export function recordQbwcSession(connection: string, result: QbwcSessionResult): void {
  qbwcSessions.inc({ connection, result });
}

export function recordQbwcRoundTrip(connection: string): void {
  qbwcRoundTrips.inc({ connection });
}

/** A call the company file did not answer; returns how many in a row, for the error log. */
export function recordCompanyFileUnanswered(connection: string, call: string): number {
  const inARow = (consecutiveUnanswered.get(connection) ?? 0) + 1;
  consecutiveUnanswered.set(connection, inARow);
  companyFileUnanswered.inc({ connection, call });
  companyFileConsecutiveUnanswered.set({ connection }, inARow);
  return inARow;
}

export function recordCompanyFileAnswered(connection: string): void {
  if ((consecutiveUnanswered.get(connection) ?? 0) === 0) return;
  consecutiveUnanswered.set(connection, 0);
  companyFileConsecutiveUnanswered.set({ connection }, 0);
}

export function recordWebhookDelivery(result: WebhookDeliveryResult): void {
  webhookDeliveries.inc({ result });
}

// ---- Dataverse rate governors ---------------------------------------------------------------------------

export interface ObservableGovernor {
  readonly name: string;
  snapshot(): GovernorSnapshot;
}

/** Governors reporting into each registry; the gauges read them at scrape time, so they cost nothing in between. */
const governorsByRegistry = new WeakMap<Registry, Map<string, ObservableGovernor>>();

/**
 * Reports a governor's state (in flight, waiting, throttled responses seen, pace) on `registry`, labelled with its
 * name. Several governors (one per application user) share the same four series names. A governor made later under
 * the same name replaces the earlier one, so re-creating a client does not leave a stale series behind.
 */
export function observeDataverseGovernor(governor: ObservableGovernor, registry: Registry = metricsRegistry): void {
  let governors = governorsByRegistry.get(registry);
  if (!governors) {
    governors = new Map();
    governorsByRegistry.set(registry, governors);
    registerGovernorGauges(registry, governors);
  }
  governors.set(governor.name, governor);
}

function registerGovernorGauges(registry: Registry, governors: ReadonlyMap<string, ObservableGovernor>): void {
  const each = (read: (s: GovernorSnapshot) => number) =>
    [...governors.values()].map((g) => ({ governor: g.name, value: read(g.snapshot()) }));
  new Gauge({
    name: 'dataverse_governor_in_flight',
    help: 'Dataverse requests currently in flight through the rate governor',
    labelNames: ['governor'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { governor, value } of each((s) => s.inFlight)) this.set({ governor }, value);
    },
  });
  new Gauge({
    name: 'dataverse_governor_waiting',
    help: 'Dataverse requests waiting for a slot in the rate governor',
    labelNames: ['governor'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { governor, value } of each((s) => s.waiting)) this.set({ governor }, value);
    },
  });
  new Counter({
    name: 'dataverse_governor_throttled_total',
    help: 'Service-protection (429/503) responses reported to the rate governor',
    labelNames: ['governor'] as const,
    registers: [registry],
    collect() {
      // The governor keeps the running total; mirror it rather than count twice.
      this.reset();
      for (const { governor, value } of each((s) => s.throttledResponses)) this.inc({ governor }, value);
    },
  });
  new Gauge({
    name: 'dataverse_governor_pace_per_second',
    help: 'Dataverse request starts per second over the recent pace horizon',
    labelNames: ['governor'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { governor, value } of each((s) => s.currentPacePerSecond)) this.set({ governor }, value);
    },
  });
}
