import { WorkflowFailedError } from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { Command, InvalidArgumentError } from 'commander';
import { writeFileSync } from 'node:fs';
import { runtime } from '../config/runtime';
import { formatReconcileReport, type ReconcileReport } from '../reconcile/report';
import type { reconcile } from '../workflows/reconcile';
import { operatorDeps, requireKnownConnection, withTemporal, type OperatorDeps } from './temporalSession';

/** `qbsync reconcile`: exit codes a month-end script can branch on. */
export const ReconcileExit = { InAgreement: 0, OutOfAgreement: 1, Error: 2 } as const;

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export interface ReconcileRunOptions {
  connection: string;
  json: boolean;
  out?: string;
  timeoutMs: number;
}

/** The same surroundings as every operator command. */
export type ReconcileRunDeps = OperatorDeps;

/** `90s`, `10m`, `2h`; a bare number is minutes. */
export function parseTimeout(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/i.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  if (!match || !(amount > 0)) throw new InvalidArgumentError('give a duration such as 90s, 10m or 2h');
  const unit = (match[2] ?? 'm').toLowerCase();
  return Math.round(amount * (unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000));
}

function describeDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function failureMessage(error: unknown, workflowId: string, options: ReconcileRunOptions): string {
  if (error instanceof WorkflowFailedError) {
    if (error.cause instanceof TimeoutFailure) {
      return (
        `${workflowId} did not finish within ${describeDuration(options.timeoutMs)}. QuickBooks answers only while the ` +
        `Web Connector of "${options.connection}" runs a session: check that it is scheduled, or allow more time with --timeout.`
      );
    }
    return `${workflowId} failed: ${error.cause?.message ?? error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Starts the `reconcile` workflow, waits for its report and prints it; resolves to the exit code. */
export async function runReconcile(options: ReconcileRunOptions, deps: ReconcileRunDeps): Promise<number> {
  const workflowId = `reconcile/${options.connection}/${(deps.now ?? (() => new Date()))().toISOString()}`;
  let report: ReconcileReport;
  try {
    requireKnownConnection(deps, options.connection);
    report = await withTemporal(deps, async (client) => {
      const handle = await client.workflow.start<typeof reconcile>('reconcile', {
        workflowId,
        taskQueue: deps.taskQueue ?? runtime.taskQueue,
        args: [{ connection: options.connection }],
        workflowExecutionTimeout: options.timeoutMs,
      });
      deps.err(`Started ${workflowId}; QuickBooks answers at the Web Connector's next session.`);
      return handle.result();
    });
  } catch (error) {
    deps.err(`qbsync: ${failureMessage(error, workflowId, options)}`);
    return ReconcileExit.Error;
  }

  const text = options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReconcileReport(report)}\n`;
  if (options.out) {
    try {
      writeFileSync(options.out, text);
    } catch (error) {
      deps.err(`qbsync: cannot write ${options.out}: ${error instanceof Error ? error.message : String(error)}`);
      return ReconcileExit.Error;
    }
    deps.err(`Wrote ${options.out}: ${report.inAgreement ? 'in agreement' : 'OUT OF AGREEMENT'}.`);
  } else {
    deps.out(text);
  }
  return report.inAgreement ? ReconcileExit.InAgreement : ReconcileExit.OutOfAgreement;
}

export function reconcileCommand(dataDir: () => string): Command {
  return (
    new Command('reconcile')
      .description(
        'Read both systems for one connection and report what is out of agreement (exit 0 in agreement, 1 not, 2 error).',
      )
      .requiredOption('-c, --connection <name>', 'connection name')
      .option('--json', 'print the report as JSON', false)
      .option('--out <file>', 'write the report to this file instead of standard output')
      .option('--timeout <duration>', 'give up after this long: 90s, 10m, 2h (default: 10m)', parseTimeout)
      // Usage errors are errors too: a month-end script must not read commander's exit 1 as "out of agreement".
      .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : ReconcileExit.Error))
      .action(async (opts: { connection: string; json: boolean; out?: string; timeout?: number }) => {
        let deps: ReconcileRunDeps;
        try {
          // The surroundings of every operator command; no local connections (a configuration elsewhere): the
          // workflow is the judge.
          deps = operatorDeps(dataDir());
        } catch (error) {
          console.error(`qbsync reconcile: ${error instanceof Error ? error.message : String(error)}`);
          process.exitCode = ReconcileExit.Error;
          return;
        }
        process.exitCode = await runReconcile(
          {
            connection: opts.connection,
            json: opts.json,
            timeoutMs: opts.timeout ?? DEFAULT_TIMEOUT_MS,
            ...(opts.out ? { out: opts.out } : {}),
          },
          deps,
        );
      })
  );
}
