import type { CompanyClock } from './companyClock';
import type { CompanyStore } from './companyStore';
import type { QueryIterators } from './queryIterators';

export interface RequestContext {
  store: CompanyStore;
  clock: CompanyClock;
  iterators: QueryIterators;
  /** Records someone holds in QuickBooks (open in a window, list locked): id → the status a Mod of it answers. */
  inUse?: ReadonlyMap<string, RecordInUseCode>;
  markDirty(): void;
}

export type RecordInUseCode = 3170 | 3175 | 3176 | 3180;

/** What a handler produces: the Ret elements and, for queries, the status and extra `*Rs` attributes. */
export interface RequestOutcome {
  body: string;
  statusCode?: number;
  statusSeverity?: 'Info' | 'Warn' | 'Error';
  statusMessage?: string;
  attrs?: Record<string, string>;
}

export function childText(element: { children: { name: string; text: string }[] }, name: string): string | undefined {
  return element.children.find((c) => c.name === name)?.text;
}

export function childTexts(element: { children: { name: string; text: string }[] }, name: string): string[] {
  return element.children.filter((c) => c.name === name).map((c) => c.text);
}
