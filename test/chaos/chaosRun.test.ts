import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULT_KINDS, runChaos, type FaultKind } from '../../bench/chaos/run';
import { temporalCliPath } from '../support/temporal';

/**
 * The short chaos run (`npm run chaos` is the long one): the sandbox stack with the worker, gateway and Temporal dev
 * server as separate processes, under load, with about 30 faults on a fixed seed; then the oracle, from outside the
 * connector, must find nothing lost, nothing duplicated, nothing stuck and no phone different on the two sides.
 *
 * Fault kinds that the chaos run showed still lose, double or strand records are left out here, each with the issue
 * item whose fix closes it; `npm run chaos` still injects them. Remove an entry once its item has landed.
 */
const EXCLUDED: Partial<Record<FaultKind, string>> = {};

describe('chaos run, short and seeded', () => {
  it(
    'about 30 faults on a steady load: nothing lost, duplicated, stuck or disagreeing, reconcile clean',
    { timeout: 20 * 60_000 },
    async () => {
      const kinds = FAULT_KINDS.filter((k) => EXCLUDED[k] === undefined);
      const result = await runChaos({
        faults: 30,
        seed: 7,
        kinds,
        temporalCli: temporalCliPath(),
        meanFaultIntervalMs: 2000,
        convergeTimeoutMs: 480_000,
        log: (m) => console.log(`[chaos] ${m}`),
      });
      const summary = JSON.stringify(
        { injected: result.faultsInjected, verdict: result.verdict, reconcile: result.reconcile },
        null,
        1,
      );
      assert.ok(result.faultsInjectedTotal >= 15, `faults that actually hit: ${summary}`);
      assert.ok(result.recordsMoved > 0, 'the load moved records');
      // A phone that differs between the systems is a failure too (issue 11: west 80000031 once ended so).
      assert.deepEqual(
        { lost: result.lost, duplicated: result.duplicated, stuck: result.stuck, disagreed: result.disagreed },
        { lost: 0, duplicated: 0, stuck: 0, disagreed: 0 },
        summary,
      );
      assert.equal(result.converged, true, summary);
      assert.equal(result.reconcileClean, true, summary);
    },
  );
});
