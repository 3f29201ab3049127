import { randomUUID } from 'node:crypto';

interface OpenIterator {
  requestType: string;
  /** When a page was last taken, in milliseconds of the company's clock. */
  lastUsedMs: number;
  remaining: string[];
  pageSize: number;
  ownerIds: string[];
}

export interface IteratorPage {
  iteratorId: string;
  ids: string[];
  remainingCount: number;
  ownerIds: string[];
}

/**
 * Iterators as QuickBooks runs them: `Start` fixes the matching set, each `Continue` hands out the next page, and an
 * iterator that is finished (or never existed, or belongs to another request type) is status 3391.
 * They live in memory only, like QuickBooks' own: they end with the Web Connector's session (`endSession`) and
 * after `idleMs` without a page, so a `Continue` sent later is status 3391 too.
 */
export class QueryIterators {
  private readonly open = new Map<string, OpenIterator>();

  constructor(
    private readonly nowMs: () => number,
    private readonly idleMs: number,
  ) {}

  start(requestType: string, ids: string[], pageSize: number | undefined, ownerIds: string[]): IteratorPage {
    const iteratorId = `{${randomUUID()}}`;
    const size = pageSize === undefined || pageSize <= 0 ? ids.length || 1 : pageSize;
    this.open.set(iteratorId, { requestType, lastUsedMs: this.nowMs(), remaining: [...ids], pageSize: size, ownerIds });
    return this.take(iteratorId, undefined);
  }

  /** Returns undefined when QuickBooks would answer 3391. */
  continue(iteratorId: string, requestType: string, pageSize: number | undefined): IteratorPage | undefined {
    const it = this.live(iteratorId);
    if (!it || it.requestType !== requestType) return undefined;
    return this.take(iteratorId, pageSize);
  }

  /** The Web Connector's session with the company file ended: every iterator of it is gone. */
  endSession(): void {
    this.open.clear();
  }

  private live(iteratorId: string): OpenIterator | undefined {
    const it = this.open.get(iteratorId);
    if (it && this.nowMs() - it.lastUsedMs > this.idleMs) {
      this.open.delete(iteratorId);
      return undefined;
    }
    return it;
  }

  stop(iteratorId: string): boolean {
    return this.live(iteratorId) !== undefined && this.open.delete(iteratorId);
  }

  private take(iteratorId: string, pageSize: number | undefined): IteratorPage {
    const it = this.open.get(iteratorId);
    if (!it) throw new Error('iterator vanished');
    const size = pageSize !== undefined && pageSize > 0 ? pageSize : it.pageSize;
    const ids = it.remaining.splice(0, size);
    it.lastUsedMs = this.nowMs();
    if (it.remaining.length === 0) this.open.delete(iteratorId);
    return { iteratorId, ids, remainingCount: it.remaining.length, ownerIds: it.ownerIds };
  }
}
