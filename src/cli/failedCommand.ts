import { Command } from 'commander';
import { failedRecords, failedRunsFilter, PayloadReader, recordRunsQuery, type FailedRecord } from './recordRuns';
import {
  connectionCommand,
  formatWholeDuration,
  operatorAction,
  type OperatorDeps,
  parseWholeDuration,
  printEquivalent,
} from './temporalSession';

export interface FailedOptions {
  connection?: string;
  sinceMs: number;
  json: boolean;
  limit: number;
}

function formatFailed(records: readonly FailedRecord[]): string {
  if (records.length === 0) return 'No record is failed.\n';
  const lines: string[] = [];
  for (const r of records) {
    lines.push(`${r.workflowId}`);
    lines.push(
      `  ${r.entity ?? '?'} ${r.sourceId ?? '?'} → ${r.targetId ?? '(no target yet)'}  ` +
        `${r.connection ? '' : '(company file not known yet)  '}` +
        `closed ${r.closeTime ?? '?'}  run ${r.runId}`,
    );
    lines.push(`  ${r.failure ?? '(no failure message)'}`);
    lines.push(
      r.waitsForFix
        ? `  waits for a fix: a change to the record runs it again, or replay it after a fix made elsewhere`
        : `  retried by the poll, with a backoff, until it succeeds`,
    );
  }
  lines.push(
    '',
    `${records.length} failed record${records.length === 1 ? '' : 's'}. Replay one: qbsync replay <workflow id>`,
  );
  return `${lines.join('\n')}\n`;
}

/** `qbsync failed`: record workflows whose latest run failed, with the reason in the workflow's own words. */
export async function listFailed(options: FailedOptions, deps: OperatorDeps): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  const closedAfter = new Date(now.getTime() - options.sinceMs);
  const filter = { ...(options.connection ? { connection: options.connection } : {}), closedAfter };
  return connectionCommand(deps, 'failed', options.connection, async (client) => {
    const reader = new PayloadReader(deps.dataConverter);
    const records = await failedRecords(client, reader, { ...filter, limit: options.limit });
    deps.out(options.json ? `${JSON.stringify(records, null, 2)}\n` : formatFailed(records));
    if (!options.json) {
      deps.err(`(failed in the last ${formatWholeDuration(options.sinceMs)}, latest run only)`);
    }
    printEquivalent(deps, ['workflow', 'list', '--query', recordRunsQuery(failedRunsFilter(filter))]);
    return 0;
  });
}

export function failedCommand(dataDir: () => string): Command {
  return new Command('failed')
    .description('List record workflows whose latest run failed: entity, source and target ids, when, and why.')
    .option('-c, --connection <name>', 'only this connection')
    .option('--since <duration>', 'failed within this long: 30m, 24h, 7d', '24h')
    .option('--limit <n>', 'at most this many records', '200')
    .option('--json', 'print as JSON', false)
    .action(
      operatorAction(
        dataDir,
        'failed',
        (deps, opts: { connection?: string; since: string; limit: string; json: boolean }) => {
          const limit = Number(opts.limit);
          if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a whole number, at least 1');
          return listFailed(
            {
              ...(opts.connection ? { connection: opts.connection } : {}),
              sinceMs: parseWholeDuration(opts.since),
              json: opts.json,
              limit,
            },
            deps,
          );
        },
      ),
    );
}
