import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import {
  createPollSchedule,
  pausePollSchedule,
  showPollSchedule,
  triggerPollSchedule,
  unpausePollSchedule,
} from '../../src/cli/scheduleCommand';
import { formatWholeDuration, parseWholeDuration, type OperatorDeps } from '../../src/cli/temporalSession';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { startTestTemporal } from '../support/temporal';

const dataConverter = connectorDataConverter(new PayloadKeyRing('schedule-key', [['schedule-key', randomBytes(32)]]));
// No worker polls this queue: a triggered cycle stays running, which is all the schedule's side needs to show.
const taskQueue = `schedules-${randomUUID()}`;

let env: TestWorkflowEnvironment;
let client: Client;

before(async () => {
  env = await startTestTemporal();
  client = new Client({ connection: env.connection, dataConverter });
});

after(async () => {
  await env?.teardown();
});

function capture(overrides: Partial<OperatorDeps> = {}): { deps: OperatorDeps; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    deps: {
      client,
      dataConverter,
      taskQueue,
      knownConnections: ['east', 'west', 'north'],
      out: (text) => out.push(text),
      err: (line) => err.push(line),
      ...overrides,
    },
    out: () => out.join(''),
    err: () => err.join('\n'),
  };
}

describe('qbsync schedule durations', () => {
  for (const [text, ms] of [
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
  ] as const) {
    it(`reads ${text} and writes it back`, () => {
      assert.equal(parseWholeDuration(text), ms);
      assert.equal(formatWholeDuration(ms), text);
    });
  }
  for (const bad of ['', '0h', '1.5h', '90s', 'h', '-1h']) {
    it(`refuses "${bad}"`, () =>
      assert.throws(() => parseWholeDuration(bad), /whole number of minutes, hours or days/));
  }
});

describe('qbsync schedule on a real Temporal dev server', () => {
  it('creates the poll schedule once: pollCycle as poll/<connection>, overlap Skip, input encrypted', async () => {
    const c = capture();
    assert.equal(
      await createPollSchedule({ connection: 'east', everyMs: 3_600_000, paused: false, update: false }, c.deps),
      0,
      c.err(),
    );
    assert.match(c.out(), /Created schedule poll-east: pollCycle every 1h, running/);
    assert.match(
      c.err(),
      new RegExp(
        `equivalent: temporal schedule create --schedule-id poll-east --workflow-id poll/east --type pollCycle ` +
          `--task-queue ${taskQueue} --input '\\{"connection":"east"\\}' --interval 1h --overlap-policy Skip$`,
      ),
    );
    const d = await client.schedule.getHandle('poll-east').describe();
    assert.equal(d.action.workflowType, 'pollCycle');
    assert.equal(d.action.workflowId, 'poll/east');
    assert.equal(d.action.taskQueue, taskQueue);
    assert.deepEqual(d.action.args, [{ connection: 'east' }]);
    assert.deepEqual(
      d.spec.intervals?.map((i) => i.every),
      [3_600_000],
    );
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(d.state.paused, false);
    const raw = d.raw.schedule?.action?.startWorkflow?.input?.payloads?.[0];
    assert.equal(Buffer.from(raw?.metadata?.encoding ?? []).toString(), 'binary/encrypted');
  });

  it('reports an existing schedule instead of duplicating it, and changes its interval only with --update', async () => {
    const again = capture();
    assert.equal(
      await createPollSchedule({ connection: 'east', everyMs: 1_800_000, paused: false, update: false }, again.deps),
      0,
    );
    assert.match(again.out(), /Schedule poll-east already exists \(every 1h, running\); not changed\./);
    assert.match(again.out(), /qbsync schedule create -c east --every 30m --update/);
    const handle = client.schedule.getHandle('poll-east');
    assert.deepEqual(
      (await handle.describe()).spec.intervals?.map((i) => i.every),
      [3_600_000],
    );
    const schedules = [];
    for await (const s of client.schedule.list()) schedules.push(s.scheduleId);
    assert.deepEqual(
      schedules.filter((id) => id === 'poll-east'),
      ['poll-east'],
    );

    const update = capture();
    assert.equal(
      await createPollSchedule({ connection: 'east', everyMs: 1_800_000, paused: false, update: true }, update.deps),
      0,
      update.err(),
    );
    assert.match(update.out(), /Updated schedule poll-east: every 30m, running\./);
    assert.match(
      update.err(),
      /temporal schedule update --schedule-id poll-east .* --interval 30m --overlap-policy Skip/,
    );
    const d = await handle.describe();
    assert.deepEqual(
      d.spec.intervals?.map((i) => i.every),
      [1_800_000],
    );
    assert.deepEqual(d.action.args, [{ connection: 'east' }], 'the update keeps the action');
    assert.equal(d.action.workflowId, 'poll/east');
  });

  it('triggers a cycle now, pauses with a note, shows it, and unpauses', async () => {
    const trigger = capture();
    assert.equal(await triggerPollSchedule({ connection: 'east' }, trigger.deps), 0, trigger.err());
    assert.match(trigger.err(), /temporal schedule trigger --schedule-id poll-east --overlap-policy Skip/);
    const deadline = Date.now() + 10_000;
    let running: string[] = [];
    while (Date.now() < deadline) {
      running = (await client.schedule.getHandle('poll-east').describe()).info.runningActions.map(
        (a) => a.workflow.workflowId,
      );
      if (running.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Temporal appends the scheduled time to the action's workflow ID.
    assert.equal(running.length, 1);
    assert.match(running[0]!, /^poll\/east-\d{4}-\d\d-\d\dT/);
    const cycle = await client.workflow.getHandle(running[0]!).describe();
    assert.equal(cycle.type, 'pollCycle');
    assert.equal(cycle.status.name, 'RUNNING');

    const pause = capture();
    assert.equal(await pausePollSchedule({ connection: 'east', note: 'month-end close' }, pause.deps), 0, pause.err());
    assert.match(pause.err(), /temporal schedule toggle --schedule-id poll-east --pause --reason 'month-end close'$/);
    let d = await client.schedule.getHandle('poll-east').describe();
    assert.equal(d.state.paused, true);
    assert.equal(d.state.note, 'month-end close');

    const show = capture();
    assert.equal(await showPollSchedule({ connection: 'east', json: true }, show.deps), 0, show.err());
    const shown = JSON.parse(show.out()) as { paused: boolean; note: string; running: string[]; intervals: string[] };
    assert.equal(shown.paused, true);
    assert.equal(shown.note, 'month-end close');
    assert.deepEqual(shown.running, running);
    assert.deepEqual(shown.intervals, ['30m']);
    const text = capture();
    await showPollSchedule({ connection: 'east', json: false }, text.deps);
    assert.match(text.out(), /state {9}paused \(note: month-end close\)/);
    assert.match(
      text.out(),
      /action {8}pollCycle as poll\/east-<scheduled time> on .*, input \[\{"connection":"east"\}\]/,
    );
    assert.match(text.err(), /temporal schedule describe --schedule-id poll-east/);

    const unpause = capture();
    assert.equal(await unpausePollSchedule({ connection: 'east' }, unpause.deps), 0, unpause.err());
    d = await client.schedule.getHandle('poll-east').describe();
    assert.equal(d.state.paused, false);
  });

  it('creates a schedule paused when asked', async () => {
    const c = capture();
    assert.equal(
      await createPollSchedule(
        { connection: 'west', everyMs: 86_400_000, paused: true, update: false, note: 'waiting for go-live' },
        c.deps,
      ),
      0,
      c.err(),
    );
    assert.match(c.err(), /--interval 1d --overlap-policy Skip --paused$/);
    const d = await client.schedule.getHandle('poll-west').describe();
    assert.equal(d.state.paused, true);
    assert.equal(d.state.note, 'waiting for go-live');
  });

  it('refuses clearly: no schedule yet, unknown connection, Temporal unreachable', async () => {
    const missing = capture();
    assert.equal(await pausePollSchedule({ connection: 'north' }, missing.deps), 1);
    assert.match(
      missing.err(),
      /qbsync schedule pause: there is no schedule poll-north; create it with `qbsync schedule create -c north`/,
    );

    const unknown = capture();
    assert.equal(await triggerPollSchedule({ connection: 'south' }, unknown.deps), 1);
    assert.match(unknown.err(), /no connection named "south"\. Known connections: east, west, north\./);

    const unreachable = capture({ address: '127.0.0.1:1' });
    delete unreachable.deps.client;
    assert.equal(await showPollSchedule({ connection: 'east', json: false }, unreachable.deps), 1);
    assert.match(unreachable.err(), /Temporal is not reachable at 127\.0\.0\.1:1/);
  });
});
