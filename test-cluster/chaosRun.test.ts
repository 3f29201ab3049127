import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_FAULT_KINDS, runChaos } from '../bench/chaos/run';
import { temporalCliPath } from '../test/support/temporal';

/**
 * The short chaos run (test/chaos/chaosRun.test.ts) on the production topology: a Temporal cluster on the local
 * PostgreSQL with its services as processes (two frontends and two history services behind one address), two workers
 * and two gateways with the Web Connectors spread across them, under load, with about 30 faults on a fixed seed: the
 * dev server run's kinds, its Temporal restart being here a stop and start of every service, plus kill -9 of one
 * history and of one frontend process. Then the oracle, from outside the connector, must find nothing lost, nothing
 * duplicated, nothing stuck, no field different on the two sides, and the connector's reconcile both offices in
 * agreement.
 * `npm run chaos -- --cluster --faults 30 --seed 7` is the same run with its figures in bench/results/chaos-cluster.json.
 */
describe('chaos run on the Temporal cluster, short and seeded', () => {
  it(
    'about 30 faults, history and frontend processes killed among them: nothing lost, duplicated, stuck or disagreeing',
    { timeout: 14 * 60_000 },
    async () => {
      const result = await runChaos({
        faults: 30,
        seed: 7,
        kinds: CLUSTER_FAULT_KINDS,
        temporalCli: temporalCliPath(),
        meanFaultIntervalMs: 2000,
        convergeTimeoutMs: 300_000,
        // The tier drops every database with this prefix that a killed run left behind.
        cluster: { basePort: 27633, databaseName: 'temporal_qbsync_test_chaos' },
        log: (m) => console.log(`[chaos:cluster] ${m}`),
      });
      const summary = JSON.stringify(
        {
          injected: result.faultsInjected,
          starts: result.processStarts,
          verdict: result.verdict,
          reconcile: result.reconcile,
          seconds: {
            initialSync: result.initialSyncSeconds,
            faults: result.faultPhaseSeconds,
            converge: result.timeToConvergeSeconds,
          },
        },
        null,
        1,
      );
      console.log(`[chaos:cluster] ${summary}`);
      assert.ok(result.faultsInjectedTotal >= 15, `faults that actually hit: ${summary}`);
      // The cluster's own faults struck: each killed history or frontend process was started again, beside the
      // starts of the full restarts (the Temporal faults take turns, so none of them finds its process already down).
      const killedHistories = result.faultsInjected.killHistory ?? 0;
      const killedFrontends = result.faultsInjected.killFrontend ?? 0;
      assert.ok(killedHistories >= 1 && killedFrontends >= 1, summary);
      const starts = (service: string): number =>
        Object.entries(result.processStarts)
          .filter(([name]) => name.startsWith(`temporal-${service}-`))
          .reduce((n, [, count]) => n + count, 0);
      const fullRestarts = result.faultsInjected.restartTemporal ?? 0;
      assert.ok(starts('history') >= 2 + 2 * fullRestarts + killedHistories, `history starts: ${summary}`);
      assert.ok(starts('frontend') >= 2 + 2 * fullRestarts + killedFrontends, `frontend starts: ${summary}`);
      assert.ok(result.recordsMoved > 0, 'the load moved records');
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
