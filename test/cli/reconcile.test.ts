import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeout, ReconcileExit, runReconcile } from '../../src/cli/reconcileCommand';

describe('qbsync reconcile', () => {
  for (const [text, ms] of [
    ['90s', 90_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['15', 900_000],
    ['1.5m', 90_000],
  ] as const) {
    it(`reads --timeout ${text} as ${ms} ms`, () => assert.equal(parseTimeout(text), ms));
  }
  for (const bad of ['', 'abc', '0', '-5m', '10d']) {
    it(`refuses --timeout "${bad}"`, () => assert.throws(() => parseTimeout(bad), /duration such as/));
  }

  it('refuses a connection it does not know, before starting anything', async () => {
    const err: string[] = [];
    const code = await runReconcile(
      { connection: 'north', json: false, timeoutMs: 60_000 },
      { address: '127.0.0.1:1', knownConnections: ['east', 'west'], out: () => undefined, err: (l) => err.push(l) },
    );
    assert.equal(code, ReconcileExit.Error);
    assert.match(err.join('\n'), /no connection named "north"\. Known connections: east, west/);
  });

  it('says clearly that Temporal is unreachable and exits 2', async () => {
    const err: string[] = [];
    const code = await runReconcile(
      { connection: 'east', json: false, timeoutMs: 60_000 },
      { address: '127.0.0.1:1', out: () => undefined, err: (l) => err.push(l) },
    );
    assert.equal(code, ReconcileExit.Error);
    assert.match(err.join('\n'), /Temporal is not reachable at 127\.0\.0\.1:1.*npm start/);
  });
});
