import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataverseFaults } from '../../../src/sandbox/dataverse/faults';

describe('Dataverse sandbox fault hooks (chaos run only)', () => {
  it('answers nothing unusual until a fault is armed', () => {
    const faults = new DataverseFaults();
    assert.equal(faults.refusal(), undefined);
    assert.equal(faults.loseAnswer('PATCH', 'qbsync'), false);
    assert.deepEqual(faults.deliveryDelays(50), [50]);
  });

  it('a 429 storm refuses with Retry-After until it ends; a 503 storm without it', () => {
    const faults = new DataverseFaults();
    faults.startStorm(429, 1000, 10_000);
    const throttled = faults.refusal(10_500);
    assert.equal(throttled?.status, 429);
    assert.equal(throttled?.headers['Retry-After'], '2');
    assert.equal(faults.refusal(11_000), undefined, 'over once its time is up');
    faults.startStorm(503, 1000, 20_000);
    const unavailable = faults.refusal(20_001);
    assert.equal(unavailable?.status, 503);
    assert.equal(unavailable?.headers['Retry-After'], undefined);
    assert.deepEqual(
      { ...faults.injected },
      { throttled429: 1, unavailable503: 1, answerLostAfterCommit: 0, webhookDuplicated: 0 },
    );
  });

  it("loses the answer of the connector's next write only: never a read, never an untagged (user's) write", () => {
    const faults = new DataverseFaults();
    faults.loseAnswersAfterCommit(1);
    assert.equal(faults.loseAnswer('GET', 'qbsync'), false);
    assert.equal(faults.loseAnswer('PATCH', undefined), false);
    assert.equal(faults.loseAnswer('PATCH', 'qbsync'), true);
    assert.equal(faults.loseAnswer('POST', 'qbsync'), false, 'one armed, one lost');
    assert.equal(faults.injected.answerLostAfterCommit, 1);
  });

  it('delivers the next webhook event twice, the copy later than the events after it', () => {
    const faults = new DataverseFaults();
    faults.duplicateNextWebhook(2, 1500);
    assert.deepEqual(faults.deliveryDelays(50), [50, 1550]);
    assert.deepEqual(faults.deliveryDelays(50), [50]);
    assert.equal(faults.injected.webhookDuplicated, 1);
  });
});
