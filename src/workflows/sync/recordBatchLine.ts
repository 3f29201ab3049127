/**
 * A poll cycle's record batches from started to reported, and whose turn it is to run (issue 11 item 5).
 *
 * The cycle starts each batch workflow as soon as a batch's worth of records is read, so the records leave its history
 * with the batch's input; it no longer awaits the batch, which let QuickBooks' pages pile up in one run while a batch
 * ran for a minute. A batch that may not run yet starts held and waits for the cycle to release it. Batches run in the
 * order started, at most `atOnce` together; a batch `afterEarlier` (jobs, whose parents' accounts must exist; deletions,
 * which come after the edits read in the same cycle; failed records read afresh) runs only once every batch before it
 * has reported. Pure: the cycle keeps the line in its state and carries it over continue-as-new.
 */
export interface RecordBatchLine {
  /** Started held, in the order started: each waits for its release. */
  held: { batchId: string; afterEarlier: boolean }[];
  /** Running (started so, or released) and not yet reported. */
  running: string[];
  /** What failed each batch that failed as a whole (not a record of it: those are in its report). */
  errors: string[];
}

export const EMPTY_LINE: RecordBatchLine = { held: [], running: [], errors: [] };

/** Whether a batch started now may run at once: none waits before it, a place is free, and it need wait for none. */
export function runsAtOnce(line: RecordBatchLine, afterEarlier: boolean, atOnce: number): boolean {
  return line.held.length === 0 && line.running.length < atOnce && (!afterEarlier || line.running.length === 0);
}

/** The line with `batchId` started: running, or held behind the others. */
export function started(line: RecordBatchLine, batchId: string, runs: boolean, afterEarlier: boolean): RecordBatchLine {
  return runs
    ? { ...line, running: [...line.running, batchId] }
    : { ...line, held: [...line.held, { batchId, afterEarlier }] };
}

/** The held batches whose turn has come, first to last, and the line with them running. */
export function releases(line: RecordBatchLine, atOnce: number): { line: RecordBatchLine; release: string[] } {
  const held = [...line.held];
  const running = [...line.running];
  const release: string[] = [];
  for (let next = held[0]; next !== undefined; next = held[0]) {
    if (running.length >= atOnce || (next.afterEarlier && running.length > 0)) break;
    held.shift();
    running.push(next.batchId);
    release.push(next.batchId);
  }
  return { line: { ...line, held, running }, release };
}

/** Whether `batchId` is one of this line's: a report from a batch of an earlier cycle under the same id is not. */
export function awaits(line: RecordBatchLine, batchId: string): boolean {
  return line.running.includes(batchId) || line.held.some((h) => h.batchId === batchId);
}

/**
 * The line once `batchId` has reported, with what failed it if it failed as a whole. A held batch may report too: one
 * that waited past its bound for a release (its cycle gone, or stuck) runs without it.
 */
export function reported(line: RecordBatchLine, batchId: string, error?: string): RecordBatchLine {
  return {
    held: line.held.filter((h) => h.batchId !== batchId),
    running: line.running.filter((id) => id !== batchId),
    errors: error === undefined ? line.errors : [...line.errors, `${batchId}: ${error}`],
  };
}

/** Every batch started has reported. */
export function settled(line: RecordBatchLine): boolean {
  return line.held.length === 0 && line.running.length === 0;
}
