import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { failedRecords, firstWorkflowTaskCompleted, isRecordWorkflowId, PayloadReader } from './recordRuns';
import {
  asExitCode,
  operatorAction,
  type OperatorDeps,
  OperatorError,
  printEquivalent,
  requireKnownConnection,
  withTemporal,
} from './temporalSession';

export interface ReplayOptions {
  /** One record workflow; or every failed one with `allFailed`. */
  workflowId?: string;
  allFailed: boolean;
  connection?: string;
  reason?: string;
}

export interface Replayed {
  workflowId: string;
  previousRunId: string;
  previousStatus: string;
  runId: string;
}

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'an operator';
  }
}

/**
 * Resets the record's latest run to its first workflow task: the new run does the whole sync again (idempotent by
 * design) and both runs stay in the history, the new one carrying the reason.
 */
async function replayRecord(client: Client, workflowId: string, reason: string, deps: OperatorDeps): Promise<Replayed> {
  const latest = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) {
        throw new OperatorError(`there is no workflow ${workflowId} (or its history is past retention).`);
      }
      throw error;
    });
  if (latest.status.name === 'RUNNING') {
    // A reset would terminate a run that may be half-way through a write; let it end, then replay if it failed.
    throw new OperatorError(`${workflowId} is still running (run ${latest.runId}); replay it once it has ended.`);
  }
  const eventId = await firstWorkflowTaskCompleted(client, workflowId, latest.runId);
  if (eventId === undefined) {
    throw new OperatorError(
      `${workflowId} run ${latest.runId} never completed a workflow task; there is nothing to reset to.`,
    );
  }
  const response = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId, runId: latest.runId },
    reason,
    workflowTaskFinishEventId: eventId,
    // One id per replay: a retried gRPC call does not reset twice.
    requestId: randomUUID(),
    identity: `qbsync replay (${operatorName()})`,
  });
  printEquivalent(deps, [
    'workflow',
    'reset',
    '--workflow-id',
    workflowId,
    '--run-id',
    latest.runId,
    '--type',
    'FirstWorkflowTask',
    '--reason',
    reason,
  ]);
  return { workflowId, previousRunId: latest.runId, previousStatus: latest.status.name, runId: response.runId };
}

export async function replay(options: ReplayOptions, deps: OperatorDeps): Promise<number> {
  return asExitCode(deps, 'replay', async () => {
    if (options.allFailed === (options.workflowId !== undefined)) {
      throw new OperatorError('give either a workflow id or --all-failed (see `qbsync failed`).');
    }
    if (options.workflowId !== undefined && options.connection !== undefined) {
      throw new OperatorError('-c/--connection goes with --all-failed; a workflow id already names its record.');
    }
    if (options.workflowId !== undefined && !isRecordWorkflowId(options.workflowId)) {
      throw new OperatorError(
        `"${options.workflowId}" is not a record workflow id (qb/<connection>/<entity>/<id> or d365/<entity>/<id>).`,
      );
    }
    requireKnownConnection(deps, options.connection);
    const reason = options.reason ?? `replayed with qbsync by ${operatorName()}`;
    return withTemporal(deps, async (client) => {
      const ids = options.workflowId
        ? [options.workflowId]
        : (
            await failedRecords(client, new PayloadReader(deps.dataConverter), {
              ...(options.connection ? { connection: options.connection } : {}),
              limit: 1000,
            })
          ).map((r) => r.workflowId);
      if (ids.length === 0) {
        deps.out('No failed record to replay.\n');
        return 0;
      }
      let errors = 0;
      for (const workflowId of ids) {
        try {
          const replayed = await replayRecord(client, workflowId, reason, deps);
          deps.out(
            `Replayed ${workflowId}: new run ${replayed.runId} (was ${replayed.previousStatus.toLowerCase()}, run ${replayed.previousRunId}).\n`,
          );
        } catch (error) {
          errors += 1;
          deps.err(`qbsync replay: ${workflowId}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (ids.length > 1) deps.out(`${ids.length - errors} of ${ids.length} replayed.\n`);
      if (errors < ids.length) deps.err('Follow a record with `qbsync audit -w <workflow id>`.');
      return errors === 0 ? 0 : 1;
    });
  });
}

export function replayCommand(dataDir: () => string): Command {
  return new Command('replay')
    .description(
      "Run a failed record's sync again from the start (Temporal reset to the first workflow task; the history keeps both runs).",
    )
    .argument('[workflowId]', 'the record workflow, e.g. qb/east/customer/80000001-1234567890')
    .option('--all-failed', 'every record workflow whose latest run failed', false)
    .option('-c, --connection <name>', 'with --all-failed: only this connection')
    .option('--reason <text>', 'kept in the history with the replay (default: who replayed it)')
    .action(
      operatorAction(
        dataDir,
        'replay',
        (deps, workflowId: string | undefined, opts: { allFailed: boolean; connection?: string; reason?: string }) =>
          replay(
            {
              ...(workflowId !== undefined ? { workflowId } : {}),
              allFailed: opts.allFailed,
              ...(opts.connection ? { connection: opts.connection } : {}),
              ...(opts.reason ? { reason: opts.reason } : {}),
            },
            deps,
          ),
      ),
    );
}
