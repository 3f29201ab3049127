import type { QbRecord, QbxmlRequest } from '../qbxml/requests';
import { responseOrFail } from './companyFile/qbxmlFailure';
import { runQbxml } from './companyFile/runQbxml';

export type QuickBooksList = 'Customer' | 'Vendor' | 'Item' | 'CustomerType' | 'Class';

export interface QuickBooksListReadInput {
  connection: string;
  list: QuickBooksList;
  fromModifiedDate?: string;
  pageSize?: number;
}

function listQuery(requestId: string, input: QuickBooksListReadInput): QbxmlRequest {
  const common = { requestId, fromModifiedDate: input.fromModifiedDate };
  switch (input.list) {
    case 'CustomerType':
      return { type: 'CustomerTypeQuery', ...common };
    case 'Class':
      return { type: 'ClassQuery', ...common };
    default:
      // Iterators keep each page bounded however large the list is.
      return {
        type: `${input.list}Query`,
        ...common,
        maxReturned: input.pageSize ?? 100,
        iterator: 'Start',
        activeStatus: 'All',
      } as QbxmlRequest;
  }
}

/**
 * Reads a whole QuickBooks list (or what changed in it since a date) through the company file's queue. An iterator
 * QuickBooks forgot between pages is restarted by runQbxml; any other error status fails the read rather than
 * passing off part of the list as all of it.
 */
export async function quickbooksListRead(
  input: QuickBooksListReadInput,
): Promise<{ records: QbRecord[]; pages: number }> {
  let pages = 0;
  const [outcome] = await runQbxml(input.connection, (batchId) => [listQuery(`${batchId}-0`, input)], {
    followUp: false,
    onPage: () => {
      pages += 1;
    },
  });
  return { records: responseOrFail(outcome, `reading the ${input.list} list`).records, pages };
}
