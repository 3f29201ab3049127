import type { Client } from '@temporalio/client';
import { createQuickBooksActivities } from './quickbooks';

export interface ActivityDeps {
  client: Client;
  taskQueue: string;
}

/** All activities of the worker, built from their dependencies so tests can inject fakes. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createQuickBooksActivities(deps),
  };
}
