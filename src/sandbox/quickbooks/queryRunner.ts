import type { RequestContext, RequestOutcome } from './requestContext';
import { childText, childTexts } from './requestContext';
import { RequestFailure, statusMessages } from './requestFailure';
import type { XmlElement } from './xml';

export interface QueryMatch {
  /** IDs in result order (TimeModified, then ID). */
  ids: string[];
  /** ListIDs/FullNames/TxnIDs named in the request that do not exist (status 500). */
  missing: string[];
}

export type RenderById = (id: string, ownerIds: string[]) => string | undefined;

/**
 * The part every query shares: iterator Start/Continue, MaxReturned capping, metaData, and the 0 / 1 / 500 statuses.
 * `match` runs only when a fresh result set is needed; Continue pages through the set captured at Start.
 */
export function runQuery(
  rq: XmlElement,
  ctx: RequestContext,
  match: () => QueryMatch,
  render: RenderById,
): RequestOutcome {
  const iterator = rq.attrs['iterator'];
  const maxText = childText(rq, 'MaxReturned');
  const maxReturned = maxText === undefined ? undefined : Number(maxText);
  if (maxText !== undefined && !/^\d+$/.test(maxText)) {
    throw new RequestFailure(
      3030,
      `There was an error when converting the integer "${maxText}" in the field "MaxReturned".`,
    );
  }
  const ownerIds = childTexts(rq, 'OwnerID');
  const metaData = rq.attrs['metaData'] ?? 'NoMetaData';
  let ids: string[];
  let missing: string[] = [];
  const attrs: Record<string, string> = {};

  if (iterator === 'Continue' || iterator === 'Stop') {
    const iteratorId = rq.attrs['iteratorID'] ?? '';
    if (iterator === 'Stop') {
      if (!ctx.iterators.stop(iteratorId)) throw new RequestFailure(3391, statusMessages.invalidIterator(iteratorId));
      return { body: '', attrs: { iteratorRemainingCount: '0', iteratorID: iteratorId } };
    }
    const page = ctx.iterators.continue(iteratorId, rq.name, maxReturned);
    if (!page) throw new RequestFailure(3391, statusMessages.invalidIterator(iteratorId));
    ids = page.ids;
    attrs['iteratorRemainingCount'] = String(page.remainingCount);
    attrs['iteratorID'] = page.iteratorId;
    return finish(ids, [], page.ownerIds, attrs, metaData, render);
  }

  const found = match();
  missing = found.missing;
  if (iterator === 'Start') {
    const page = ctx.iterators.start(rq.name, found.ids, maxReturned, ownerIds);
    ids = page.ids;
    attrs['iteratorRemainingCount'] = String(page.remainingCount);
    attrs['iteratorID'] = page.iteratorId;
  } else {
    ids = maxReturned === undefined ? found.ids : found.ids.slice(0, maxReturned);
  }
  return finish(ids, missing, ownerIds, attrs, metaData, render);
}

function finish(
  ids: string[],
  missing: string[],
  ownerIds: string[],
  attrs: Record<string, string>,
  metaData: string,
  render: RenderById,
): RequestOutcome {
  const rets = ids.map((id) => render(id, ownerIds)).filter((r): r is string => r !== undefined);
  if (metaData !== 'NoMetaData') attrs['retCount'] = String(rets.length);
  const body = metaData === 'MetaDataOnly' ? '' : rets.join('');
  if (missing.length > 0) {
    return {
      body,
      attrs,
      statusCode: 500,
      statusSeverity: 'Warn',
      statusMessage: statusMessages.notFullyCompleted(missing[0] ?? ''),
    };
  }
  if (rets.length === 0) {
    return { body, attrs, statusCode: 1, statusSeverity: 'Info', statusMessage: statusMessages.noMatch };
  }
  return { body, attrs };
}

/** Stable result order, as QuickBooks returns changes: oldest modification first, ties by ID. */
export function byModified<T extends { modified: number }>(idOf: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => a.modified - b.modified || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0);
}
