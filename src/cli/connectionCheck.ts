import { chooseQbxmlVersion } from '../qbxml/versions';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { DataverseTarget, DeploymentConnection, GatewayEndpoint } from '../config/deployment';
import { userPrivileges, webhookRegistrations, whoAmI, type WebhookRegistration } from '../dataverse/applicationUser';
import {
  CONNECTOR_ROLE_NAME,
  CONNECTOR_TABLE_ACCESS,
  connectorRoleRequirements,
  type AccessRight,
  type RolePrivilege,
} from '../dataverse/connectorRole';
import { auditConnectionWebhook, CONNECTOR_WEBHOOK_STEPS, connectorWebhookUrl } from '../dataverse/connectorWebhook';
import { DataverseClient } from '../dataverse/client';
import { DataverseAuthError, DataverseError } from '../dataverse/errors';
import { inspectProvisioning } from '../dataverse/provisioning';
import { RateGovernor } from '../dataverse/rateGovernor';
import { dataverseTokenProvider } from '../dataverse/connect';
import { runDataverseProbes } from './dataverseProbes';
import { describeTemporalHandshake, type TemporalTarget } from '../temporal/connect';
import {
  companyFileWorkflowId,
  webConnectorContactQuery,
  type WebConnectorContact,
} from '../workflows/companyFile/messages';
import { searchAttributeRegistrations } from '../workflows/searchAttributes';

/**
 * `qbsync check`: every link the connector depends on, tried the way the worker and gateway use it, each reported as
 * one finding in plain words with what to do when it fails. Nothing is written anywhere, unless the write probes are
 * asked for (`dataverseProbes.ts`).
 */

export type CheckArea = 'configuration' | 'temporal' | 'dataverse' | 'dataverse-probes' | 'company-file';

export interface CheckFinding {
  area: CheckArea;
  /** What was checked, e.g. `namespace`, `webhooks`, `east: last Web Connector contact`. */
  check: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
  connection?: string;
}

export interface ConnectionCheckDeps {
  temporal: TemporalTarget;
  /** Connects a client (with the deployment's data converter: query results are encrypted); throws when it cannot. */
  withTemporal: <T>(work: (client: Client) => Promise<T>) => Promise<T>;
  /** Resolves the Dataverse credentials; throws naming the reference when it cannot. */
  dataverseTarget: () => DataverseTarget;
  gateway: Pick<GatewayEndpoint, 'publicUrl'>;
  connections: readonly DeploymentConnection[];
  now?: () => Date;
  /** How long one Temporal call may take before it counts as a failure. */
  callTimeoutMs?: number;
  /** Also run the write probes (`--probe-writes`): they create and remove rows, so only when asked. */
  probeWrites?: boolean;
}

export async function runConnectionCheck(deps: ConnectionCheckDeps): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  await checkTemporal(deps, findings);
  await checkDataverse(deps, findings);
  // Read top-down as the links depend on each other: Temporal, Dataverse, then each company file.
  return findings.sort((a, b) => AREA_ORDER.indexOf(a.area) - AREA_ORDER.indexOf(b.area));
}

const AREA_ORDER: readonly CheckArea[] = ['configuration', 'temporal', 'dataverse', 'dataverse-probes', 'company-file'];

// ---- Temporal ---------------------------------------------------------------------------------------------------

async function checkTemporal(deps: ConnectionCheckDeps, findings: CheckFinding[]): Promise<void> {
  const target = deps.temporal;
  const handshake = await describeTemporalHandshake(target);
  findings.push({
    area: 'temporal',
    check: 'transport',
    ok: handshake.ok,
    detail: handshake.lines.map((l) => l.trim()).join('; '),
    ...(handshake.ok
      ? {}
      : { fix: 'Check temporal.tls and temporal.apiKey in the configuration file (docs/deployment.md).' }),
  });
  const deadline = deps.callTimeoutMs ?? 10_000;
  try {
    await deps.withTemporal(async (client) => {
      findings.push({
        area: 'temporal',
        check: 'reachable',
        ok: true,
        detail: `Temporal answers at ${target.address}`,
      });
      const inTime = <T>(call: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + deadline, call);
      const namespaceOk = await checkNamespace(client, target.namespace, inTime, findings);
      if (!namespaceOk) return;
      await checkSearchAttributes(client, target.namespace, inTime, findings);
      for (const connection of deps.connections) {
        await checkCompanyFile(client, connection, deps, inTime, findings);
        await checkLastPoll(client, connection.name, inTime, findings, deps.now?.() ?? new Date());
      }
    });
  } catch (error) {
    if (findings.some((f) => f.check === 'reachable')) throw error;
    findings.push({
      area: 'temporal',
      check: 'reachable',
      ok: false,
      detail: messageOf(error),
      fix: 'Start Temporal (`npm start` runs a dev server) or correct temporal.address / TEMPORAL_ADDRESS.',
    });
    for (const connection of deps.connections) {
      findings.push({
        area: 'company-file',
        connection: connection.name,
        check: `${connection.name}: company file`,
        ok: false,
        detail: 'not checked: Temporal is not reachable',
      });
    }
  }
}

type InTime = <T>(call: () => Promise<T>) => Promise<T>;

async function checkNamespace(
  client: Client,
  namespace: string,
  inTime: InTime,
  findings: CheckFinding[],
): Promise<boolean> {
  try {
    await inTime(() => client.workflowService.describeNamespace({ namespace }));
    findings.push({ area: 'temporal', check: 'namespace', ok: true, detail: `namespace "${namespace}" exists` });
    return true;
  } catch (error) {
    findings.push({
      area: 'temporal',
      check: 'namespace',
      ok: false,
      detail: `namespace "${namespace}" cannot be described: ${messageOf(error)}`,
      fix: `Create it (\`temporal operator namespace create --namespace ${namespace}\`, or in Temporal Cloud) or correct temporal.namespace.`,
    });
    return false;
  }
}

async function checkSearchAttributes(
  client: Client,
  namespace: string,
  inTime: InTime,
  findings: CheckFinding[],
): Promise<void> {
  try {
    const listed = await inTime(() => client.connection.operatorService.listSearchAttributes({ namespace }));
    const present = new Set(Object.keys(listed.customAttributes ?? {}));
    const missing = Object.keys(searchAttributeRegistrations).filter((name) => !present.has(name));
    findings.push({
      area: 'temporal',
      check: 'search attributes',
      ok: missing.length === 0,
      detail:
        missing.length === 0
          ? `${Object.keys(searchAttributeRegistrations).join(', ')} registered`
          : `missing: ${missing.join(', ')} (record workflows fail to start without them)`,
      ...(missing.length === 0
        ? {}
        : {
            fix: missing
              .map(
                (name) =>
                  `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${searchAttributeRegistrations[name]}`,
              )
              .join('; '),
          }),
    });
  } catch (error) {
    findings.push({
      area: 'temporal',
      check: 'search attributes',
      ok: false,
      detail: `cannot be listed: ${messageOf(error)}`,
      fix: 'The identity needs the operator role to list search attributes; or check them in the Temporal UI.',
    });
  }
}

// ---- company files ----------------------------------------------------------------------------------------------

/** Windows paths compare without regard to case or slash direction, as the file system does. */
function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.trim().replace(/\//g, '\\').toLowerCase();
  return norm(a) === norm(b);
}

function age(fromMs: number, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - fromMs) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** Closed poll runs looked at to find the connection's last one (other workflows' ids may share the prefix). */
const POLL_RUNS_LOOKED_AT = 20;

/**
 * The connection's last poll cycle that ended. The schedule goes on after a failed run and nothing else would show it:
 * a list whose answer QuickBooks gave cannot be read (`UnreadableQuickBooksList`) fails every cycle until the record
 * is fixed in QuickBooks, while every other list and Dynamics still sync.
 */
async function checkLastPoll(
  client: Client,
  name: string,
  inTime: InTime,
  findings: CheckFinding[],
  now: Date,
): Promise<void> {
  const add = (ok: boolean, detail: string, fix?: string): void => {
    findings.push({
      area: 'company-file',
      connection: name,
      check: `${name}: last poll`,
      ok,
      detail,
      ...(fix ? { fix } : {}),
    });
  };
  // `poll/<name>` when started by hand; a schedule's runs add the time they were due: `poll/<name>-<time>`.
  const ownId = new RegExp(`^poll/${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d{4}-\\d\\d-\\d\\dT.*)?$`);
  let last: WorkflowExecutionInfo | undefined;
  try {
    last = await inTime(async () => {
      let looked = 0;
      const runs = client.workflow.list({
        query: `WorkflowId STARTS_WITH 'poll/${name}' AND ExecutionStatus != 'Running'`,
      });
      for await (const run of runs) {
        if (ownId.test(run.workflowId)) return run;
        if (++looked >= POLL_RUNS_LOOKED_AT) break;
      }
      return undefined;
    });
  } catch (error) {
    add(false, `poll runs cannot be listed: ${messageOf(error)}`);
    return;
  }
  if (!last) {
    add(true, 'no poll cycle has ended yet');
    return;
  }
  const ended = last.closeTime ? ` ${age(last.closeTime.getTime(), now)}` : '';
  if (last.status.name === 'COMPLETED') {
    add(true, `${last.workflowId} completed${ended}`);
    return;
  }
  let failure = '';
  if (last.status.name === 'FAILED') {
    const outcome = await inTime(() =>
      client.workflow
        .getHandle(last.workflowId, last.runId)
        .result()
        .then(
          () => '',
          (error: unknown) => messageOf((error as { cause?: unknown }).cause ?? error),
        ),
    );
    failure = outcome ? `: ${outcome}` : '';
  }
  add(
    false,
    `${last.workflowId} ${last.status.name.toLowerCase()}${ended}${failure}`,
    `Read its failure in the Temporal UI. An unreadable QuickBooks list (UnreadableQuickBooksList) names the record to fix in QuickBooks; the other lists and Dynamics still sync meanwhile (docs/deployment.md).`,
  );
}

async function checkCompanyFile(
  client: Client,
  connection: DeploymentConnection,
  deps: ConnectionCheckDeps,
  inTime: InTime,
  findings: CheckFinding[],
): Promise<void> {
  const name = connection.name;
  const workflowId = companyFileWorkflowId(name);
  const add = (check: string, ok: boolean, detail: string, fix?: string): void => {
    findings.push({
      area: 'company-file',
      connection: name,
      check: `${name}: ${check}`,
      ok,
      detail,
      ...(fix ? { fix } : {}),
    });
  };
  const noContactFix =
    `Add the connection's .QWC to the QuickBooks Web Connector on the QuickBooks machine (\`qbsync qwc -c ${name}\`), ` +
    `enter its password, and run it once; the gateway must be reachable at ${deps.gateway.publicUrl}/qbwc.`;
  const handle = client.workflow.getHandle(workflowId);
  let description: Awaited<ReturnType<typeof handle.describe>>;
  try {
    description = await inTime(() => handle.describe());
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      add('last Web Connector contact', false, `no QBWC contact yet: ${workflowId} was never started`, noContactFix);
      return;
    }
    add('workflow', false, `${workflowId} cannot be described: ${messageOf(error)}`);
    return;
  }
  if (description.status.name !== 'RUNNING') {
    add(
      'workflow',
      false,
      `${workflowId} is ${description.status.name}; the next Web Connector run starts it again`,
      'Run the Web Connector for this company file, or wait for its next scheduled run.',
    );
    return;
  }
  const pending = description.raw.pendingWorkflowTask;
  const attempt = pending?.attempt ?? 0;
  if (attempt > 1) {
    add(
      'workflow',
      false,
      `${workflowId} is not making progress: its workflow task has failed ${attempt - 1} time(s) in a row, so every Web Connector call waits and fails`,
      "Read the worker's log for the workflow task failure. A nondeterminism error means a deploy changed the " +
        'workflow: see docs/versioning.md, "A run that is already bricked".',
    );
    return;
  }
  add('workflow', true, `${workflowId} is running and its workflow tasks complete`);

  let contact: WebConnectorContact;
  try {
    contact = await inTime(() => handle.query(webConnectorContactQuery));
  } catch (error) {
    add(
      'last Web Connector contact',
      false,
      `${workflowId} does not answer the contact query (${messageOf(error)}); a run started before this version answers it after its next Web Connector session`,
      'Run the Web Connector once, then check again.',
    );
    return;
  }
  const now = deps.now?.() ?? new Date();
  if (contact.lastSessionAtMs === undefined) {
    add('last Web Connector contact', false, 'no QBWC contact yet', noContactFix);
    return;
  }
  add(
    'last Web Connector contact',
    true,
    `${new Date(contact.lastSessionAtMs).toISOString()} (${age(contact.lastSessionAtMs, now)})`,
  );
  const report = contact.report;
  if (!report) {
    // A run with nothing to do ends at authenticate: QBWC opens QuickBooks, and reports it, only for a run with work.
    add(
      'QuickBooks and qbXML versions',
      true,
      'not reported yet: no Web Connector run has had work since this connector version started; the versions and the company file path arrive with the next one',
    );
    return;
  }
  const quickbooks = report.quickbooks;
  const [major, minor] = report.qbxmlVersion.split('.').map(Number);
  const choice = chooseQbxmlVersion(major ?? Number.NaN, minor ?? 0, quickbooks?.supportedQbxmlVersions);
  add(
    'QuickBooks and qbXML versions',
    choice.kind === 'chosen',
    `${quickbooks ? `${quickbooks.product} (version ${quickbooks.version})` : 'QuickBooks (product not reported)'}, qbXML ${report.qbxmlVersion}${report.country ? ` ${report.country}` : ''}, reported ${age(report.atMs, now)}${choice.kind === 'chosen' ? `; the connector writes qbXML ${choice.version}` : ''}`,
    choice.kind === 'chosen' ? undefined : choice.reason,
  );
  const configured = connection.qbwc.companyFilePath;
  if (configured === '') {
    add('company file path', true, `${report.companyFilePath} (none configured: whichever file is open is used)`);
  } else {
    const same = samePath(configured, report.companyFilePath);
    add(
      'company file path',
      same,
      same
        ? `${report.companyFilePath}, as configured`
        : `the Web Connector opened ${report.companyFilePath}, but the configuration says ${configured}`,
      same
        ? undefined
        : `Correct connections[].qbwc.companyFilePath, or open ${configured} in QuickBooks; a wrong file would receive this connection's writes.`,
    );
  }
}

// ---- Dataverse --------------------------------------------------------------------------------------------------

async function checkDataverse(deps: ConnectionCheckDeps, findings: CheckFinding[]): Promise<void> {
  const add = (check: string, ok: boolean, detail: string, fix?: string): void => {
    findings.push({ area: 'dataverse', check, ok, detail, ...(fix ? { fix } : {}) });
  };
  let target: DataverseTarget;
  try {
    target = deps.dataverseTarget();
  } catch (error) {
    add('credentials', false, messageOf(error), 'Set the secret the message names (`qbsync secrets set <name>`).');
    return;
  }
  const credential = target.clientAssertionFile
    ? `client assertion from ${target.clientAssertionFile}`
    : target.clientCertificate
      ? `certificate ${target.clientCertificate.thumbprintSha256}`
      : 'client secret';
  const identity = `tenant ${target.tenantId}, app ${target.clientId}, ${credential}, authority ${target.authority ?? `https://login.microsoftonline.com/${target.tenantId}`}`;
  const tokenProvider = dataverseTokenProvider(target, 'check');
  // One attempt per request: a check reports what happens, it does not wait out throttling.
  const client = new DataverseClient({
    connection: 'check',
    webApiUrl: target.webApiUrl,
    tokenProvider,
    ...(target.caPem ? { caPem: target.caPem } : {}),
    governor: new RateGovernor({ name: 'check' }),
    maxThrottleRetries: 0,
  });
  try {
    try {
      await tokenProvider.getToken();
      add('token', true, `token issued for ${target.environmentUrl} (${identity})`);
    } catch (error) {
      const code = error instanceof DataverseAuthError ? error.code : '';
      add(
        'token',
        false,
        `no token (${identity}): ${messageOf(error)}`,
        /invalid_client|7000215|7000222/i.test(`${code} ${messageOf(error)}`)
          ? 'The client secret is wrong or expired: create a new one on the app registration and store it (`qbsync secrets set <name>` for the reference in the configuration).'
          : 'Check dataverse.tenantId, dataverse.clientId and the authority, and that this machine reaches the identity provider.',
      );
      return;
    }
    let userId: string;
    try {
      const me = await whoAmI(client);
      userId = me.userId;
      add('WhoAmI', true, `application user ${me.userId}, organisation ${me.organizationId}`);
    } catch (error) {
      add(
        'WhoAmI',
        false,
        messageOf(error),
        'Add the app registration as an application user of the environment (Power Platform admin center → Users → App users) with a security role.',
      );
      return;
    }
    await checkPrivileges(client, userId, add);
    await checkProvisioning(client, add);
    await checkWebhooks(client, deps, add);
    if (deps.probeWrites) {
      for (const probe of await runDataverseProbes(client)) {
        findings.push({
          area: 'dataverse-probes',
          check: probe.probe,
          ok: probe.ok,
          detail: probe.detail,
          ...(probe.fix ? { fix: probe.fix } : {}),
        });
      }
    }
  } finally {
    await client.close();
    await tokenProvider.close();
  }
}

type Add = (check: string, ok: boolean, detail: string, fix?: string) => void;

/** How the role editor shows a right (`AppendTo` is "Append To"). */
function rightLabel(right: AccessRight): string {
  return right === 'AppendTo' ? 'Append To' : right;
}

/** The role editor's names for `RetrieveUserPrivileges`' depths, shallowest first. */
const DEPTH_LEVELS: Readonly<Record<string, string>> = {
  Basic: 'User',
  Local: 'Business Unit',
  Deep: 'Parent: Child Business Units',
  Global: 'Organization',
};
const depthRank = (depth: string): number => Object.keys(DEPTH_LEVELS).indexOf(depth);

/**
 * The privileges of `connectorRole.ts`, held at Organization depth or not: one finding when all are, else one per row
 * of the role editor (`Order`) with a privilege missing or held at a shallower depth (the sync would then see, and
 * change, only the rows its application user or business unit owns: a silent gap, not an error), naming the
 * privileges, the tables they govern and what the sync does there.
 */
async function checkPrivileges(client: DataverseClient, userId: string, add: Add): Promise<void> {
  // A privilege may come through several roles and teams; the deepest grant counts.
  const held = new Map<string, string>();
  try {
    for (const privilege of await userPrivileges(client, userId)) {
      const name = privilege.name.toLowerCase();
      const known = held.get(name);
      if (known === undefined || depthRank(privilege.depth) > depthRank(known)) held.set(name, privilege.depth);
    }
  } catch (error) {
    add('privileges', false, `RetrieveUserPrivileges failed: ${messageOf(error)}`);
    return;
  }
  const required = connectorRoleRequirements();
  const lacking = required.filter((p) => !held.has(p.name.toLowerCase()));
  const shallow = required.filter((p) => {
    const depth = held.get(p.name.toLowerCase());
    return depth !== undefined && depth !== 'Global';
  });
  if (lacking.length === 0 && shallow.length === 0) {
    const tables = [...new Set(required.flatMap((p) => p.tables))];
    add(
      'privileges',
      true,
      `the application user holds the ${required.length} privileges the sync needs, at Organization level, on ${tables.join(', ')}`,
    );
    return;
  }
  const why = new Map(CONNECTOR_TABLE_ACCESS.map((access) => [access.table, access.why]));
  const described = (p: RolePrivilege): string => `${p.name} (${rightLabel(p.right)} on ${p.tables.join(', ')})`;
  for (const entity of [...new Set([...lacking, ...shallow].map((p) => p.entity))]) {
    const rowLacking = lacking.filter((p) => p.entity === entity);
    const rowShallow = shallow.filter((p) => p.entity === entity);
    const tables = [...new Set([...rowLacking, ...rowShallow].flatMap((p) => p.tables))];
    const problems = [
      ...(rowLacking.length ? [`lacks ${rowLacking.map(described).join(', ')}`] : []),
      ...rowShallow.map((p) => {
        const depth = held.get(p.name.toLowerCase()) ?? '';
        return `holds ${described(p)} only at ${DEPTH_LEVELS[depth] ?? depth} level, so the sync sees and changes only the rows of its own ${depth === 'Basic' ? 'user' : 'business unit'}`;
      }),
    ];
    const rights = [...rowLacking, ...rowShallow].map((p) => rightLabel(p.right));
    add(
      `privileges (${entity})`,
      false,
      `the application user ${problems.join('; ')}: ${tables.map((t) => `${t}: ${why.get(t) ?? ''}`).join('; ')}`,
      `Power Platform admin center → the environment → Settings → Users + permissions → Security roles → ` +
        `"${CONNECTOR_ROLE_NAME}" (the application user's role): on the row ${entity}, give ${rights.join(', ')} at Organization level, save, then run \`qbsync check\` again (docs/deployment.md §4.2).`,
    );
  }
}

async function checkProvisioning(client: DataverseClient, add: Add): Promise<void> {
  try {
    const state = await inspectProvisioning(client);
    const keysNotActive = Object.entries(state.keys).filter(([, status]) => status !== 'Active');
    const ok = state.missingColumns.length === 0 && keysNotActive.length === 0;
    const problems = [
      ...(state.missingColumns.length ? [`missing columns: ${state.missingColumns.join(', ')}`] : []),
      ...keysNotActive.map(([key, status]) => `alternate key ${key} is ${status}`),
    ];
    add(
      'provisioning',
      ok,
      ok
        ? `connector columns present, alternate keys Active (${Object.keys(state.keys).join(', ')}); products are created ${state.createProductsWithoutParentInActiveState ? 'Active' : 'as Draft and published by the connector'}`
        : problems.join('; '),
      ok
        ? undefined
        : keysNotActive.some(([, s]) => s === 'Failed')
          ? 'A Failed key means rows share a key value: remove the duplicates, reactivate the key, then run `qbsync provision`.'
          : keysNotActive.some(([, s]) => s === 'Missing') || state.missingColumns.length
            ? 'Run `qbsync provision` (idempotent): it creates what is missing.'
            : 'Keys still indexing: wait until they are Active (large tables take a while), then check again.',
    );
  } catch (error) {
    add('provisioning', false, `metadata could not be read: ${messageOf(error)}`);
  }
}

function stepLabel(step: { message: string; table: string }): string {
  return `${step.message} of ${step.table}`;
}

/** Each connection with a webhook: every step of `connectorWebhook.ts` registered at this gateway's URL for it. */
async function checkWebhooks(client: DataverseClient, deps: ConnectionCheckDeps, add: Add): Promise<void> {
  const withWebhook = deps.connections.filter((c) => c.hasWebhook);
  if (withWebhook.length === 0) {
    add('webhooks', true, 'no connection has a webhook configured: Dynamics changes wait for the poll');
    return;
  }
  let registrations: WebhookRegistration[];
  try {
    registrations = await webhookRegistrations(client);
  } catch (error) {
    add('webhooks', false, `registrations could not be read: ${messageOf(error)}`);
    return;
  }
  const connections = deps.connections.map((c) => c.name);
  for (const connection of withWebhook) {
    const url = connectorWebhookUrl(deps.gateway.publicUrl, connection.name);
    const audit = auditConnectionWebhook(registrations, {
      gatewayPublicUrl: deps.gateway.publicUrl,
      connection: connection.name,
      connections,
    });
    const check = `webhooks (${connection.name})`;
    if (audit.missing.length === 0) {
      add(
        check,
        true,
        `${CONNECTOR_WEBHOOK_STEPS.map(stepLabel).join(', ')} reach this gateway at ${audit.reaching.join(', ')}`,
      );
      continue;
    }
    const misdirected = audit.missing.filter((step) => step.elsewhere.length > 0);
    const absent = audit.missing.filter((step) => step.elsewhere.length === 0);
    const details = [
      ...misdirected.map(
        (step) => `${stepLabel(step)} points at ${step.elsewhere.join(', ')} instead of this gateway (${url})`,
      ),
      ...(absent.length ? [`no step for ${absent.map(stepLabel).join(', ')} points at this gateway (${url})`] : []),
    ];
    const fixes = [
      ...[...new Set(misdirected.flatMap((step) => step.elsewhere))].map(
        (other) =>
          `In the Plug-in Registration Tool, change the endpoint URL of the webhook at ${other} to ${url} (keep its key; it must be the connection's webhook.key), or register a new one there if that gateway is still in use.`,
      ),
      ...(absent.length
        ? [
            `In the Plug-in Registration Tool, select the webhook at ${url} (register it with the connection's key if there is none) and register a step for each of ${absent.map((step) => `${stepLabel(step)} (PostOperation, asynchronous)`).join(', ')} (docs/deployment.md §6).`,
          ]
        : []),
    ];
    add(
      check,
      false,
      `${details.join('; ')}. Until then ${audit.missing.map((step) => step.why).join(', ')} only at the next poll`,
      fixes.join(' '),
    );
  }
}

function messageOf(error: unknown): string {
  if (error instanceof DataverseError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
