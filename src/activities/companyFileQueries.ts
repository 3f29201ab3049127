import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { companyFileWorkflowId } from '../workflows/companyFile/messages';
import { sharedAnswers, type SharedAnswerOptions } from './sharedAnswers';

/**
 * Queries of a company file's workflow (its cursors, own writes, known QuickBooks choice names), shared by the
 * activities that ask at the same time (`sharedAnswers.ts`). Every record run loads its sync context, and each query
 * is a task for the worker that hosts the company file: in an initial sync, one query per record queued behind the
 * sync's own workflow tasks and kept `loadSyncContext` Started for up to half a minute per attempt on a live worker
 * (issue 11, chaos finding (c)). Each caller's answer comes from a query sent after its call (a signal the company
 * file took before the call is seen, exactly as with a query of its own), and a company file answers at most two of
 * each query at a time.
 */
export function companyFileQueries(
  ask: (connection: string, query: QueryDefinition<unknown>) => Promise<unknown>,
  options: SharedAnswerOptions = {},
) {
  const queries = new Map<string, { connection: string; query: QueryDefinition<unknown> }>();
  const shared = sharedAnswers<unknown>(
    (key) => {
      const { connection, query } = queries.get(key)!;
      return ask(connection, query);
    },
    { what: 'a query of the company file workflow', ...options },
  );
  return function queryCompanyFile<T>(connection: string, query: QueryDefinition<T>): Promise<T> {
    const key = `${connection}\u0000${query.name}`;
    queries.set(key, { connection, query: query as QueryDefinition<unknown> });
    return shared(key) as Promise<T>;
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
