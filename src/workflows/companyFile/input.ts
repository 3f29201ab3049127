import type { OwnWrites, QuickBooksChoiceNames, SyncCursors, WebConnectorContact } from './messages';
import type { CompanyFileState, QueueLimits } from './companyFileState';

/** What a run of the companyFile workflow starts from; continue-as-new carries the state, cursors and memories over. */
export interface CompanyFileInput {
  connection: string;
  limits?: Partial<QueueLimits>;
  /** Carried over continue-as-new. */
  state?: CompanyFileState;
  cursors?: SyncCursors;
  choiceNames?: QuickBooksChoiceNames;
  ownWrites?: OwnWrites;
  contact?: WebConnectorContact;
}
