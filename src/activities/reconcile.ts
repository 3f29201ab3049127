import { ApplicationFailure } from '@temporalio/activity';
import { type DataverseClient, type DataverseRow } from '../dataverse/client';
import { moneyFromWire } from '../dataverse/entities';
import {
  DataverseAuthError,
  DataverseError,
  DataverseKeyValueError,
  DataverseNotFoundError,
  DataverseValidationError,
} from '../dataverse/errors';
import { isGuid, queryString } from '../dataverse/odataAddress';
import { type ColumnValue } from '../reconcile/report';

export interface ReconcileActivityDeps {
  dataverse: DataverseClient;
}

/** Rows per activity result: at a few hundred bytes a row, a page stays far below Temporal's 2 MB payload limit. */
const MAX_ROWS_PER_PAGE = 1000;
/** Order ids per `salesOrdersWithLines` call and per `$filter` (the filter travels in the URL). */
const MAX_ORDER_IDS_PER_CALL = 500;
const ORDER_IDS_PER_FILTER = 25;

export interface DataverseRowsPageInput {
  entitySet: string;
  select: readonly string[];
  filter?: string;
  /** The previous page's `nextPageToken`; absent for the first page. */
  pageToken?: string;
  pageSize?: number;
  /** Money and decimal columns, returned as decimal text instead of JSON numbers. */
  decimalColumns?: readonly string[];
}

export interface DataverseRowsPage {
  rows: Record<string, ColumnValue>[];
  /** Absent on the last page. */
  nextPageToken?: string;
}

/**
 * Failures a retry cannot fix (a bad query, missing metadata, refused credentials) end the reconciliation with
 * a clear message instead of being retried until the workflow times out.
 */
function asActivityFailure(error: unknown): unknown {
  if (
    error instanceof DataverseValidationError ||
    error instanceof DataverseNotFoundError ||
    error instanceof DataverseAuthError ||
    error instanceof DataverseKeyValueError
  ) {
    return ApplicationFailure.nonRetryable(error.message, error.name);
  }
  return error;
}

async function failingClearly<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asActivityFailure(error);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only the selected columns, as plain JSON values: annotations and ETags are not part of the comparison. */
function compactRow(
  row: DataverseRow,
  select: readonly string[],
  decimals: ReadonlySet<string>,
): Record<string, ColumnValue> {
  const out: Record<string, ColumnValue> = {};
  for (const column of select) {
    const value = row[column];
    if (decimals.has(column)) out[column] = moneyFromWire(value);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[column] = value;
    else out[column] = null;
  }
  return out;
}

/** Reads of Dataverse for `reconcile`: bounded pages of rows, so the workflow never receives a whole table at once. */
export function createReconcileActivities({ dataverse }: ReconcileActivityDeps) {
  return {
    /** One page of a query, with the token for the next (Dataverse's `@odata.nextLink`, followed unmodified). */
    async readDataverseRowsPage(input: DataverseRowsPageInput): Promise<DataverseRowsPage> {
      const pageSize = Math.min(Math.max(1, input.pageSize ?? MAX_ROWS_PER_PAGE), MAX_ROWS_PER_PAGE);
      const headers = { Prefer: `odata.maxpagesize=${pageSize}` };
      const response = await failingClearly(() =>
        input.pageToken
          ? dataverse.execute('GET', input.pageToken, { headers })
          : dataverse.execute('GET', input.entitySet, {
              query: queryString({ select: input.select, ...(input.filter ? { filter: input.filter } : {}) }),
              headers,
            }),
      );
      const body = response.body;
      if (!isRecord(body) || !Array.isArray(body.value)) {
        throw new DataverseError({
          connection: dataverse.connection,
          method: 'GET',
          path: input.entitySet,
          status: 0,
          code: '',
          message: 'collection response without "value"',
        });
      }
      const decimals = new Set(input.decimalColumns ?? []);
      const rows = body.value.filter(isRecord).map((row) => compactRow(row, input.select, decimals));
      const next = body['@odata.nextLink'];
      return typeof next === 'string' && next !== '' ? { rows, nextPageToken: next } : { rows };
    },

    /** Which of these orders have at least one line (an order without lines is not due an invoice). */
    async salesOrdersWithLines(input: { orderIds: readonly string[] }): Promise<string[]> {
      if (input.orderIds.length > MAX_ORDER_IDS_PER_CALL) {
        throw ApplicationFailure.nonRetryable(`at most ${MAX_ORDER_IDS_PER_CALL} order ids per call`);
      }
      const ids = input.orderIds.filter(isGuid);
      const withLines = new Set<string>();
      for (let start = 0; start < ids.length; start += ORDER_IDS_PER_FILTER) {
        const chunk = ids.slice(start, start + ORDER_IDS_PER_FILTER);
        const filter = chunk.map((id) => `_salesorderid_value eq ${id}`).join(' or ');
        await failingClearly(async () => {
          for await (const page of dataverse.query('salesorderdetails', {
            select: ['_salesorderid_value'],
            filter,
            pageSize: 5000,
          })) {
            for (const line of page) {
              if (typeof line._salesorderid_value === 'string') withLines.add(line._salesorderid_value.toLowerCase());
            }
          }
        });
      }
      return input.orderIds.filter((id) => withLines.has(id.toLowerCase()));
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
