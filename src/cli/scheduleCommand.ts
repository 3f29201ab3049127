import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  type ScheduleHandle,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { describePollProgress, pollProgressQuery, type PollProgress } from '../workflows/pollProgress';
import { Command } from 'commander';
import { resolve } from 'node:path';
import { runtime } from '../config/runtime';
import type { pollCycle } from '../workflows/pollCycle';
import {
  connectionCommand,
  formatWholeDuration,
  localConnectionSchedules,
  operatorAction,
  type OperatorDeps,
  OperatorError,
  parseWholeDuration,
  printEquivalent,
} from './temporalSession';

/** The poll schedule of one connection, named as `npm start` names it so both manage the same schedule. */
function pollScheduleId(connection: string): string {
  return `poll-${connection}`;
}

function pollWorkflowId(connection: string): string {
  return `poll/${connection}`;
}

export interface ScheduleCreateOptions {
  connection: string;
  everyMs: number;
  paused: boolean;
  /** An existing schedule gets this interval (and is paused when `paused`); without it, it is only reported. */
  update: boolean;
  note?: string;
}

function taskQueue(deps: OperatorDeps): string {
  return deps.taskQueue ?? runtime.taskQueue;
}

function scheduleCliArgs(connection: string, every: string, deps: OperatorDeps): string[] {
  return [
    '--schedule-id',
    pollScheduleId(connection),
    '--workflow-id',
    pollWorkflowId(connection),
    '--type',
    'pollCycle',
    '--task-queue',
    taskQueue(deps),
    '--input',
    JSON.stringify({ connection }),
    '--interval',
    every,
    '--overlap-policy',
    'Skip',
  ];
}

async function describeOrUndefined(handle: ScheduleHandle): Promise<ScheduleDescription | undefined> {
  try {
    return await handle.describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

async function existingSchedule(client: Client, connection: string): Promise<ScheduleHandle> {
  const handle = client.schedule.getHandle(pollScheduleId(connection));
  if (!(await describeOrUndefined(handle))) {
    throw new OperatorError(
      `there is no schedule ${pollScheduleId(connection)}; create it with \`qbsync schedule create -c ${connection}\`.`,
    );
  }
  return handle;
}

function intervalText(description: ScheduleDescription): string {
  const intervals = description.spec.intervals ?? [];
  if (intervals.length === 0) return 'no interval (calendar or cron spec)';
  return intervals.map((i) => `every ${formatWholeDuration(i.every)}`).join(', ');
}

function stateText(description: ScheduleDescription): string {
  const { paused, note } = description.state;
  return `${paused ? 'paused' : 'running'}${note ? ` (note: ${note})` : ''}`;
}

export async function createPollSchedule(options: ScheduleCreateOptions, deps: OperatorDeps): Promise<number> {
  const scheduleId = pollScheduleId(options.connection);
  const every = formatWholeDuration(options.everyMs);
  const note = options.note ?? (options.paused ? 'created paused with qbsync' : undefined);
  return connectionCommand(deps, 'schedule create', options.connection, async (client) => {
    const handle = client.schedule.getHandle(scheduleId);
    let existing = await describeOrUndefined(handle);
    if (!existing) {
      try {
        await client.schedule.create<typeof pollCycle>({
          scheduleId,
          spec: { intervals: [{ every: options.everyMs }] },
          action: {
            type: 'startWorkflow',
            workflowType: 'pollCycle',
            workflowId: pollWorkflowId(options.connection),
            taskQueue: taskQueue(deps),
            args: [{ connection: options.connection }],
          },
          // A cycle still running when the next is due is left to finish; a second would read the same changes.
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
          state: { paused: options.paused, ...(note ? { note } : {}) },
        });
        deps.out(
          `Created schedule ${scheduleId}: pollCycle every ${every}, ${options.paused ? 'paused' : 'running'}.\n`,
        );
        printEquivalent(deps, [
          'schedule',
          'create',
          ...scheduleCliArgs(options.connection, every, deps),
          ...(options.paused ? ['--paused'] : []),
        ]);
        return 0;
      } catch (error) {
        // Someone else (npm start, a second operator) created it meanwhile: treat it as the existing schedule.
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        existing = await handle.describe();
      }
    }

    if (!options.update) {
      deps.out(
        `Schedule ${scheduleId} already exists (${intervalText(existing)}, ${stateText(existing)}); not changed.\n`,
      );
      const current = existing.spec.intervals ?? [];
      if (current.length !== 1 || current[0]?.every !== options.everyMs) {
        deps.out(
          `To make it poll every ${every}: qbsync schedule create -c ${options.connection} --every ${every} --update\n`,
        );
      }
      printEquivalent(deps, ['schedule', 'describe', '--schedule-id', scheduleId]);
      return 0;
    }

    // update() is read-modify-write and may call this more than once: it must only derive from `previous`.
    await handle.update((previous) => ({
      ...previous,
      spec: { ...previous.spec, intervals: [{ every: options.everyMs }] },
    }));
    if (options.paused && !existing.state.paused) await handle.pause(note ?? 'paused with qbsync');
    const after = await handle.describe();
    deps.out(`Updated schedule ${scheduleId}: ${intervalText(after)}, ${stateText(after)}.\n`);
    // `temporal schedule update` replaces the whole schedule, so its equivalent names every part of it.
    printEquivalent(deps, ['schedule', 'update', ...scheduleCliArgs(options.connection, every, deps)]);
    return 0;
  });
}

export async function pausePollSchedule(
  options: { connection: string; note?: string },
  deps: OperatorDeps,
): Promise<number> {
  const note = options.note ?? 'paused with qbsync';
  return connectionCommand(deps, 'schedule pause', options.connection, async (client) => {
    const handle = await existingSchedule(client, options.connection);
    await handle.pause(note);
    deps.out(`Paused ${handle.scheduleId} (note: ${note}). A cycle already running finishes.\n`);
    printEquivalent(deps, ['schedule', 'toggle', '--schedule-id', handle.scheduleId, '--pause', '--reason', note]);
    return 0;
  });
}

export async function unpausePollSchedule(options: { connection: string }, deps: OperatorDeps): Promise<number> {
  const note = 'unpaused with qbsync';
  return connectionCommand(deps, 'schedule unpause', options.connection, async (client) => {
    const handle = await existingSchedule(client, options.connection);
    await handle.unpause(note);
    deps.out(`Unpaused ${handle.scheduleId}.\n`);
    printEquivalent(deps, ['schedule', 'toggle', '--schedule-id', handle.scheduleId, '--unpause', '--reason', note]);
    return 0;
  });
}

export async function triggerPollSchedule(options: { connection: string }, deps: OperatorDeps): Promise<number> {
  return connectionCommand(deps, 'schedule trigger', options.connection, async (client) => {
    const handle = await existingSchedule(client, options.connection);
    // Skip, as for the timer: a cycle already running covers what this one would read.
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    // The server names each scheduled run <workflow id>-<scheduled time>, so the cycle's ID is only known by prefix.
    deps.out(
      `Triggered ${handle.scheduleId}: a ${pollWorkflowId(options.connection)}-<time> cycle starts now ` +
        '(skipped if a cycle is already running; a paused schedule still runs a triggered cycle).\n',
    );
    printEquivalent(deps, ['schedule', 'trigger', '--schedule-id', handle.scheduleId, '--overlap-policy', 'Skip']);
    return 0;
  });
}

function iso(date: Date | undefined): string {
  return date ? date.toISOString() : '-';
}

export async function showPollSchedule(
  options: { connection: string; json: boolean },
  deps: OperatorDeps,
): Promise<number> {
  return connectionCommand(deps, 'schedule show', options.connection, async (client) => {
    const handle = await existingSchedule(client, options.connection);
    const d = await handle.describe();
    const summary = {
      scheduleId: d.scheduleId,
      workflowType: d.action.workflowType,
      workflowId: d.action.workflowId,
      taskQueue: d.action.taskQueue,
      args: d.action.args,
      intervals: (d.spec.intervals ?? []).map((i) => formatWholeDuration(i.every)),
      overlap: d.policies.overlap,
      paused: d.state.paused,
      note: d.state.note ?? null,
      actionsTaken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      running: d.info.runningActions.map((a) => a.workflow.workflowId),
      recent: d.info.recentActions.map((a) => ({
        scheduledAt: iso(a.scheduledAt),
        takenAt: iso(a.takenAt),
        workflowId: a.action.workflow.workflowId,
        runId: a.action.workflow.firstExecutionRunId,
      })),
      next: d.info.nextActionTimes.map((t) => iso(t)),
    };
    // A running cycle answers how far it is: an initial load of thousands of records shows its rate and time left.
    const progress: Array<{ workflowId: string; line: string; progress?: PollProgress }> = [];
    for (const workflowId of summary.running) {
      try {
        const p = await client.workflow.getHandle(workflowId).query(pollProgressQuery);
        progress.push({ workflowId, line: describePollProgress(p), progress: p });
      } catch {
        progress.push({ workflowId, line: '(progress not available yet)' });
      }
    }
    if (options.json) {
      deps.out(`${JSON.stringify({ ...summary, progress: progress.map((p) => p.progress ?? null) }, null, 2)}\n`);
    } else {
      const lines = [
        `schedule      ${summary.scheduleId}`,
        `action        ${summary.workflowType} as ${summary.workflowId}-<scheduled time> on ${summary.taskQueue}, input ${JSON.stringify(summary.args)}`,
        `spec          ${intervalText(d)}, overlap ${summary.overlap}`,
        `state         ${stateText(d)}`,
        `actions       ${summary.actionsTaken} taken, ${summary.skippedOverlap} skipped (overlap)`,
        `running now   ${summary.running.length ? summary.running.join(', ') : '(none)'}`,
        ...progress.map((p) => `  ${p.workflowId}  ${p.line}`),
        `next          ${d.state.paused ? '(paused)' : (summary.next[0] ?? '-')}`,
        'recent',
        ...(summary.recent.length
          ? summary.recent.map((r) => `  ${r.takenAt}  ${r.workflowId}  run ${r.runId}`)
          : ['  (none)']),
      ];
      deps.out(`${lines.join('\n')}\n`);
    }
    printEquivalent(deps, ['schedule', 'describe', '--schedule-id', handle.scheduleId]);
    return 0;
  });
}

/** `qbsync schedule …` */
export function scheduleCommand(dataDir: () => string): Command {
  const schedule = new Command('schedule').description(
    `Manage the Temporal Schedule that starts each connection's poll cycle (${pollScheduleId('<connection>')} → ${pollWorkflowId('<connection>')}).`,
  );
  schedule
    .command('create')
    .description('Create the poll schedule (overlap Skip); an existing one is reported, or changed with --update.')
    .requiredOption('-c, --connection <name>', 'connection name')
    .option(
      '--every <duration>',
      "how often to poll: 30m, 1h, 1d (default: the connection's configured interval, else 1h)",
    )
    .option('--paused', 'create it paused', false)
    .option('--update', 'give an existing schedule this interval (and pause it with --paused)', false)
    .option('--note <text>', 'note kept on the schedule when it is created paused')
    .action(
      operatorAction(
        dataDir,
        'schedule create',
        (deps, opts: { connection: string; every?: string; paused: boolean; update: boolean; note?: string }) => {
          const configured = localConnectionSchedules(resolve(dataDir()))?.get(opts.connection);
          return createPollSchedule(
            {
              connection: opts.connection,
              everyMs: parseWholeDuration(opts.every ?? configured?.every ?? '1h'),
              paused: opts.paused || (opts.every === undefined && configured?.paused === true),
              update: opts.update,
              ...(opts.note ? { note: opts.note } : {}),
            },
            deps,
          );
        },
      ),
    );
  schedule
    .command('pause')
    .description('Pause the poll schedule; a cycle already running finishes.')
    .requiredOption('-c, --connection <name>', 'connection name')
    .option('--note <text>', 'why it is paused (shown by `qbsync schedule show` and the Temporal UI)')
    .action(
      operatorAction(dataDir, 'schedule pause', (deps, opts: { connection: string; note?: string }) =>
        pausePollSchedule(opts, deps),
      ),
    );
  schedule
    .command('unpause')
    .description('Resume the poll schedule.')
    .requiredOption('-c, --connection <name>', 'connection name')
    .action(
      operatorAction(dataDir, 'schedule unpause', (deps, opts: { connection: string }) =>
        unpausePollSchedule(opts, deps),
      ),
    );
  schedule
    .command('trigger')
    .description('Start a poll cycle now (skipped if one is already running).')
    .requiredOption('-c, --connection <name>', 'connection name')
    .action(
      operatorAction(dataDir, 'schedule trigger', (deps, opts: { connection: string }) =>
        triggerPollSchedule(opts, deps),
      ),
    );
  schedule
    .command('show')
    .description('Show the poll schedule: interval, state, recent and running cycles, next run.')
    .requiredOption('-c, --connection <name>', 'connection name')
    .option('--json', 'print as JSON', false)
    .action(
      operatorAction(dataDir, 'schedule show', (deps, opts: { connection: string; json: boolean }) =>
        showPollSchedule(opts, deps),
      ),
    );
  return schedule;
}
