import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationGuard, type AuthenticationGuardOptions } from '../../src/gateway/qbwc/authenticationGuard';
import { hashPassword } from '../../src/config/qbwcPassword';

const RIGHT = 'the-right-password-of-east';
let eastHash: string;

before(async () => {
  eastHash = await hashPassword(RIGHT);
});

function guardAt(options: AuthenticationGuardOptions = {}) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const guard = new AuthenticationGuard({ now: () => clock.now, ...options });
  return { guard, clock };
}

describe('authenticate: the same work for every user, backoff, bounded checks', () => {
  it('checks a password for an unknown user exactly as for a known one, and refuses both', async () => {
    const { guard } = guardAt();
    assert.equal(await guard.check('qb-east', '10.0.0.1', 'wrong', eastHash), 'invalid');
    assert.equal(guard.checksPerformed, 1);
    assert.equal(await guard.check('nobody', '10.0.0.2', 'wrong', undefined), 'invalid');
    assert.equal(guard.checksPerformed, 2);
    // Even the right password of some user does not open an unknown name.
    assert.equal(await guard.check('nobody', '10.0.0.2', RIGHT, undefined), 'invalid');
    assert.equal(await guard.check('qb-east', '10.0.0.3', RIGHT, eastHash), 'valid');
  });

  it('backs a user off after repeated failures without checking, doubling up to the cap, then lets one try through', async () => {
    const { guard, clock } = guardAt({ freeFailures: 3, baseBackoffMs: 1_000, maxBackoffMs: 8_000 });
    // Different addresses, so only the per-user count is at work.
    for (let i = 0; i < 3; i++) assert.equal(await guard.check('qb-east', `10.0.1.${i}`, 'x', eastHash), 'invalid');
    assert.equal(await guard.check('qb-east', '10.0.1.9', 'x', eastHash), 'invalid');
    const checks = guard.checksPerformed;
    assert.equal(await guard.check('qb-east', '10.0.1.10', RIGHT, eastHash), 'backoff');
    assert.equal(guard.checksPerformed, checks, 'no password check during the backoff');
    const backoffs: number[] = [];
    for (let round = 0; round < 6; round++) {
      let waited = 0;
      while ((await guard.check('qb-east', `10.0.2.${round}`, 'x', eastHash)) === 'backoff') {
        clock.now += 500;
        waited += 500;
      }
      backoffs.push(waited);
    }
    assert.deepEqual(backoffs, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    // Never longer than the cap: the right password gets in once the last backoff has passed.
    clock.now += 8_000;
    assert.equal(await guard.check('qb-east', '10.0.3.1', RIGHT, eastHash), 'valid');
    assert.equal(await guard.check('qb-east', '10.0.3.2', 'x', eastHash), 'invalid', 'success reset the count');
  });

  it('backs an address off when it guesses across many user names', async () => {
    const { guard } = guardAt({ freeFailures: 5 });
    for (let i = 0; i < 5; i++) assert.equal(await guard.check(`user-${i}`, '203.0.113.7', 'x', undefined), 'invalid');
    assert.equal(await guard.check('user-99', '203.0.113.7', 'x', undefined), 'invalid');
    assert.equal(await guard.check('user-100', '203.0.113.7', 'x', undefined), 'backoff');
    assert.equal(await guard.check('qb-east', '203.0.113.7', RIGHT, eastHash), 'backoff');
    assert.equal(await guard.check('qb-east', '198.51.100.1', RIGHT, eastHash), 'valid');
  });

  it('keeps letting the Web Connector in from its usual address while a guesser elsewhere hammers its user', async () => {
    const { guard } = guardAt({ freeFailures: 3 });
    assert.equal(await guard.check('qb-east', '192.0.2.10', RIGHT, eastHash), 'valid');
    for (let i = 0; i < 40; i++) await guard.check('qb-east', `203.0.113.${i}`, 'guess', eastHash);
    assert.equal(await guard.check('qb-east', '203.0.113.200', RIGHT, eastHash), 'backoff');
    assert.equal(await guard.check('qb-east', '192.0.2.10', RIGHT, eastHash), 'valid');
  });

  it('runs at most the allowed checks at once: 200 parallel guesses cost 18 checks, and the usual address still gets in', async () => {
    const { guard } = guardAt({ maxConcurrentChecks: 2, maxWaitingChecks: 16 });
    assert.equal(await guard.check('qb-west', '192.0.2.20', RIGHT, eastHash), 'valid');
    const before = guard.checksPerformed;
    const flood = Array.from({ length: 200 }, (_, i) => guard.check('qb-east', `203.0.113.${i % 250}`, 'x', eastHash));
    const healthy = guard.check('qb-west', '192.0.2.20', RIGHT, eastHash);
    const verdicts = await Promise.all(flood);
    assert.equal(await healthy, 'valid');
    assert.equal(verdicts.filter((v) => v === 'invalid').length, 18);
    assert.equal(verdicts.filter((v) => v === 'busy').length, 182);
    assert.equal(guard.checksPerformed - before, 19);
  });
});
