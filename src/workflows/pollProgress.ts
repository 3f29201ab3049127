import { defineQuery } from '@temporalio/workflow';

/** How far a poll cycle is: what an initial load of thousands of records shows the operator while it runs. */
export interface PollProgress {
  connection: string;
  phase: 'reading QuickBooks' | 'QuickBooks → Dynamics' | 'Dynamics → QuickBooks' | 'payments' | 'done';
  /** Records the cycle found to sync so far (QuickBooks-side records, then Dynamics rows once listed). */
  total: number;
  done: number;
  perSecond: number;
  /** At the current rate; null until a rate is known. */
  secondsLeft: number | null;
}

export const pollProgressQuery = defineQuery<PollProgress>('progress');

/** One line for logs and the operator command. */
export function describePollProgress(p: PollProgress): string {
  const left =
    p.secondsLeft === null
      ? ''
      : `, about ${p.secondsLeft >= 90 ? `${Math.round(p.secondsLeft / 60)} min` : `${Math.round(p.secondsLeft)} s`} left`;
  return `${p.phase}: ${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} records, ${p.perSecond.toFixed(1)}/s${left}`;
}
