import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { Command } from 'commander';
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import {
  groupTrailOfRecord,
  PayloadReader,
  RECORD_GROUP_TYPE,
  recordIdentity,
  recordRuns,
  recordRunsQuery,
  runTrail,
  summarize,
  type RecordIdentity,
  type RunFilter,
  type RunTrail,
} from './recordRuns';
import {
  asExitCode,
  connectionCommand,
  formatWholeDuration,
  operatorAction,
  type OperatorDeps,
  OperatorError,
  parseWholeDuration,
  printEquivalent,
  requireKnownConnection,
  withTemporal,
} from './temporalSession';

/** One run of a record workflow with what its history says: the unit of the audit trail and of the export. */
export interface AuditRun extends RecordIdentity, RunTrail {
  workflowType: string;
  status: string;
  startTime: string;
  closeTime?: string;
}

/** One run with its trail; a record group's run cut down to the record asked for by `sourceId`, when one is. */
async function auditRun(
  client: Client,
  reader: PayloadReader,
  info: WorkflowExecutionInfo,
  sourceId?: string,
): Promise<AuditRun> {
  const whole = await runTrail(client, reader, info.workflowId, info.runId);
  const group = info.type === RECORD_GROUP_TYPE;
  const trail = group && sourceId !== undefined ? groupTrailOfRecord(whole, sourceId) : whole;
  return {
    ...recordIdentity(info),
    ...(group && sourceId !== undefined ? { sourceId, ...groupedOutcome(trail.result) } : {}),
    workflowType: info.type,
    status: info.status.name,
    startTime: info.startTime.toISOString(),
    ...(info.closeTime ? { closeTime: info.closeTime.toISOString() } : {}),
    ...trail,
  };
}

/** The outcome and row a group's result gives its one record left in it, as a record run's search attributes do. */
function groupedOutcome(result: unknown): Pick<RecordIdentity, 'outcome' | 'targetId'> {
  const synced = (result as { synced?: { outcome?: unknown; targetId?: unknown }[] } | undefined)?.synced?.[0];
  if (!synced) return {};
  return {
    ...(typeof synced.outcome === 'string' ? { outcome: synced.outcome } : {}),
    ...(typeof synced.targetId === 'string' ? { targetId: synced.targetId } : {}),
  };
}

/** Every run of the records matching the filter, grouped by workflow and oldest first. */
async function recordAudit(
  client: Client,
  reader: PayloadReader,
  filter: Pick<RunFilter, 'workflowId' | 'sourceId' | 'connection'>,
): Promise<AuditRun[]> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const info of recordRuns(client, filter)) runs.push(info);
  runs.sort(
    (a, b) =>
      a.workflowId.localeCompare(b.workflowId) ||
      a.startTime.getTime() - b.startTime.getTime() ||
      (a.closeTime?.getTime() ?? Infinity) - (b.closeTime?.getTime() ?? Infinity),
  );
  const audit: AuditRun[] = [];
  for (const info of runs) audit.push(await auditRun(client, reader, info, filter.sourceId));
  return audit;
}

function formatAudit(runs: readonly AuditRun[]): string {
  const lines: string[] = [];
  let workflowId: string | undefined;
  let n = 0;
  for (const run of runs) {
    if (run.workflowId !== workflowId) {
      workflowId = run.workflowId;
      n = 0;
      if (lines.length) lines.push('');
      lines.push(
        `${run.workflowId}  (${run.entity ?? '?'} ${run.sourceId ?? '?'}${run.connection ? `, ${run.connection}` : ''})`,
      );
    }
    n += 1;
    lines.push(
      `  run ${n}  ${run.runId}  ${run.startTime} → ${run.closeTime ?? '(running)'}  ${run.status}` +
        `  outcome ${run.outcome ?? '-'}  target ${run.targetId ?? '-'}`,
    );
    if (run.resetFrom) {
      lines.push(`    replay of run ${run.resetFrom.runId}${run.resetFrom.reason ? `: ${run.resetFrom.reason}` : ''}`);
    }
    for (const signal of run.signals) lines.push(`    signal   ${signal}`);
    for (const a of run.activities) {
      const detail = a.status === 'completed' ? summarize(a.result) : (a.failure ?? '');
      lines.push(
        `    activity ${a.activityType}  ${a.status}${a.attempt && a.attempt > 1 ? ` (attempt ${a.attempt})` : ''}  ${detail}`,
      );
    }
    if (run.failure) lines.push(`    failure  ${run.failure}`);
    else if (run.result !== undefined) lines.push(`    result   ${summarize(run.result)}`);
  }
  return `${lines.join('\n')}\n`;
}

export interface AuditOptions {
  workflowId?: string;
  sourceId?: string;
  connection?: string;
  json: boolean;
}

/** `qbsync audit`: one record's trail, every run of it with the activities each ran. */
export async function audit(options: AuditOptions, deps: OperatorDeps): Promise<number> {
  return asExitCode(deps, 'audit', async () => {
    if ((options.workflowId === undefined) === (options.sourceId === undefined)) {
      throw new OperatorError('give either -w <workflow id> or --source <source id>.');
    }
    requireKnownConnection(deps, options.connection);
    const filter: Pick<RunFilter, 'workflowId' | 'sourceId' | 'connection'> = {
      ...(options.workflowId ? { workflowId: options.workflowId } : {}),
      ...(options.sourceId ? { sourceId: options.sourceId } : {}),
      ...(options.connection ? { connection: options.connection } : {}),
    };
    const runs = await withTemporal(deps, (client) =>
      recordAudit(client, new PayloadReader(deps.dataConverter), filter),
    );
    if (runs.length === 0) {
      throw new OperatorError(
        `no record run matches ${options.workflowId ?? `source id ${options.sourceId}`} ` +
          '(closed runs older than the namespace retention are only in `qbsync audit export` files).',
      );
    }
    deps.out(options.json ? `${JSON.stringify(runs, null, 2)}\n` : formatAudit(runs));
    printEquivalent(deps, ['workflow', 'list', '--query', recordRunsQuery(filter)]);
    return 0;
  });
}

export interface AuditExportOptions {
  connection?: string;
  sinceMs: number;
  out: string;
}

/**
 * Writes the runs matching `filter` to `out` as JSON Lines and returns how many. The file appears only once complete
 * (written as `<out>.partial`, then renamed) and is owner-only: it holds customer data in clear.
 */
async function writeRunsFile(client: Client, reader: PayloadReader, filter: RunFilter, out: string): Promise<number> {
  const partial = `${out}.partial`;
  let fd: number;
  try {
    fd = openSync(partial, 'w', 0o600);
  } catch (error) {
    throw new OperatorError(`cannot write ${partial}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let written = 0;
  try {
    for await (const info of recordRuns(client, filter)) {
      writeSync(fd, `${JSON.stringify(await auditRun(client, reader, info))}\n`);
      written += 1;
    }
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(partial, out);
  return written;
}

/**
 * `qbsync audit export`: closed record runs as JSON Lines, decrypted, for keeping the trail beyond Temporal's retention.
 * The file holds customer data in clear, so it is written owner-only, and appears only once complete.
 */
export async function exportAudit(options: AuditExportOptions, deps: OperatorDeps): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  const filter: RunFilter = {
    ...(options.connection ? { connection: options.connection } : {}),
    closedAfter: new Date(now.getTime() - options.sinceMs),
    withGroups: true,
  };
  return connectionCommand(deps, 'audit export', options.connection, async (client) => {
    const count = await writeRunsFile(client, new PayloadReader(deps.dataConverter), filter, options.out);
    deps.out(
      `Exported ${count} closed record run${count === 1 ? '' : 's'} of the last ${formatWholeDuration(options.sinceMs)} to ${options.out}.\n`,
    );
    printEquivalent(deps, ['workflow', 'list', '--query', recordRunsQuery(filter), '--output', 'jsonl']);
    return 0;
  });
}

export function auditCommand(dataDir: () => string): Command {
  const command = new Command('audit')
    .description(
      "One record's trail: every run of it, oldest first, with status, outcome, target id and its activities.",
    )
    .option('-w, --workflow-id <id>', 'the record workflow, e.g. qb/east/customer/80000001-1234567890')
    .option('--source <id>', 'the source id (QuickBooks ListID/TxnID or Dataverse id) of the record')
    .option('-c, --connection <name>', 'with --source: only this connection')
    .option('--json', 'print as JSON', false)
    .action(
      operatorAction(
        dataDir,
        'audit',
        (deps, opts: { workflowId?: string; source?: string; connection?: string; json: boolean }) =>
          audit(
            {
              ...(opts.workflowId ? { workflowId: opts.workflowId } : {}),
              ...(opts.source ? { sourceId: opts.source } : {}),
              ...(opts.connection ? { connection: opts.connection } : {}),
              json: opts.json,
            },
            deps,
          ),
      ),
    );
  command
    .command('export')
    .description("Write closed record runs as JSON Lines (decrypted), to keep the trail beyond Temporal's retention.")
    .requiredOption('--out <file>', 'the .jsonl file to write (owner-only: it holds customer data in clear)')
    .option('-c, --connection <name>', 'only this connection')
    .option('--since <duration>', 'runs closed within this long: 12h, 30d', '30d')
    .action(
      operatorAction(dataDir, 'audit export', (deps, _opts: unknown, self: Command) => {
        // `audit` has a -c of its own, and commander gives a parent's option to the parent wherever it appears.
        const opts = self.optsWithGlobals<{ out: string; connection?: string; since: string }>();
        return exportAudit(
          {
            out: opts.out,
            sinceMs: parseWholeDuration(opts.since),
            ...(opts.connection ? { connection: opts.connection } : {}),
          },
          deps,
        );
      }),
    );
  return command;
}
