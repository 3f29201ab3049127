import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { failureSerializers, redactFailureText, temporalSdkLogger } from '../../src/observability/failureRedaction';

const name = 'Dr. Jane Q. Public';

describe('failure texts in log lines', () => {
  it('keep the failure kind, type and causes, and lose every word of the failure, in fields and in the message', () => {
    const cause = new Error(`Dynamics account ${name} has no price level`);
    const failure = ApplicationFailure.create({
      message: `Dynamics account ${name} cannot be synced`,
      type: 'MappingError',
      nonRetryable: true,
      details: [{ name }],
      cause,
    });
    const { message, meta } = redactFailureText(`Error while processing ActivityTask.start: ${failure.message}`, {
      error: failure,
      workflowId: 'qb/east/customer/8000-1',
      attempt: 3,
      sink: { reason: `${name} is locked`, requester: 'qb/east/customer/8000-1' },
    });
    const line = JSON.stringify({ message, meta });
    assert.equal(line.includes('Jane'), false, line);
    assert.equal(line.includes('price level'), false, line);
    assert.equal(message, 'Error while processing ActivityTask.start: [redacted failure text]');
    assert.deepEqual(meta.error, {
      kind: 'ApplicationFailure',
      type: 'MappingError',
      nonRetryable: true,
      message: '[redacted failure text]',
      cause: { kind: 'Error', message: '[redacted failure text]' },
    });
    assert.equal(meta.workflowId, 'qb/east/customer/8000-1');
    assert.equal(meta.attempt, 3);
    assert.deepEqual(meta.sink, { reason: '[redacted failure text]', requester: 'qb/east/customer/8000-1' });
  });

  it('reach pino through the SDK logger and the gateway logger redacted', () => {
    const lines: string[] = [];
    const capture = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    temporalSdkLogger(capture).warn('Activity failed', { error: new Error(`customer ${name} not found`) });
    // As src/gateway/main.ts builds the gateway's logger: a child with the failure serializers.
    const gateway = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }).child(
      { component: 'gateway' },
      { serializers: failureSerializers },
    );
    gateway.error({ err: new TypeError(`${name} is too long`) }, 'QBWC call failed');
    gateway.warn({ error: `codec could not read ${name}` }, 'codec request failed');
    assert.equal(lines.length, 3);
    assert.equal(lines.join('').includes('Jane'), false, lines.join(''));
    assert.match(lines[1]!, /"err":\{"kind":"TypeError","message":"\[redacted failure text\]"\}/);
  });
});
