import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { companyFileWorkflowId } from '../workflows/companyFile/messages';

/**
 * Queries of a company file's workflow (its cursors, own writes, known QuickBooks choice names), shared by the
 * activities that ask at the same time. Every record run loads its sync context, and each query is a task for the
 * worker that hosts the company file: in an initial sync, one query per record queued behind the sync's own workflow
 * tasks and kept `loadSyncContext` Started for up to half a minute per attempt on a live worker (issue 11, chaos
 * finding (c)).
 *
 * While a query is in flight, callers that arrive wait for the next one, sent when it returns, and share its answer:
 * each caller's answer comes from a query sent after its call (a signal the company file took before the call is
 * seen, exactly as with a query of its own), and a company file answers at most two of each query at a time.
 */
export function companyFileQueries(ask: (connection: string, query: QueryDefinition<unknown>) => Promise<unknown>) {
  const rounds = new Map<string, { inFlight?: Promise<unknown>; next?: Promise<unknown> }>();
  const send = (round: { inFlight?: Promise<unknown> }, run: () => Promise<unknown>): Promise<unknown> => {
    const sent = run();
    round.inFlight = sent;
    const settled = () => {
      if (round.inFlight === sent) round.inFlight = undefined;
    };
    sent.then(settled, settled);
    return sent;
  };
  return function queryCompanyFile<T>(connection: string, query: QueryDefinition<T>): Promise<T> {
    const key = `${connection}\u0000${query.name}`;
    let round = rounds.get(key);
    if (!round) {
      round = {};
      rounds.set(key, round);
    }
    const run = () => ask(connection, query as QueryDefinition<unknown>);
    const current = round;
    if (!current.inFlight) return send(current, run) as Promise<T>;
    if (!current.next) {
      const afterCurrent = current.inFlight.then(
        () => undefined,
        () => undefined,
      );
      current.next = afterCurrent.then(() => {
        current.next = undefined;
        return send(current, run);
      });
    }
    return current.next as Promise<T>;
  };
}

/** The company file's state through a shared query; before its first run there is none (`empty`). */
export function sharedCompanyFileQueries(client: Client) {
  const queryCompanyFile = companyFileQueries((connection, query) =>
    client.workflow.getHandle(companyFileWorkflowId(connection)).query(query),
  );
  return async <T>(connection: string, query: QueryDefinition<T>, empty: T): Promise<T> => {
    try {
      return await queryCompanyFile(connection, query);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return empty;
      throw err;
    }
  };
}
