/**
 * Which Dynamics rows a poll cycle reads as changed, and where its cursors move to. Rows are read in one total order,
 * `modifiedon` then the row's id, and a cursor is the position of the last row handed off in that order: its
 * `modifiedon` (`d365:<entity>`) and its id (`d365:<entity>:seen`). `modifiedon` alone is not enough: it is to the
 * second, and a mass update stamps thousands of rows with one second, more than a cycle hands off, so a cursor that
 * could only say "from this second on" would read the same first rows again every cycle and never move.
 */

/** Where an entity's reading resumes: after the row `afterId` of the second `since` (or at that second, without it). */
export interface DataverseChangePosition {
  since?: string;
  afterId?: string;
}

/**
 * The `$filter` clause of the rows after the position, or undefined from the start. Without an id (a cursor written
 * before ids were kept) the whole second is read again, as it always was.
 */
export function changedSince(position: DataverseChangePosition, idColumn: string): string | undefined {
  const { since, afterId } = position;
  if (!since) return undefined;
  if (!afterId) return `modifiedon ge ${since}`;
  return `(modifiedon gt ${since} or (modifiedon eq ${since} and ${idColumn} gt ${afterId}))`;
}

/** The total order the rows are read in; the id breaks ties within a second, as the position does. */
export function changeOrder(idColumn: string): string {
  return `modifiedon asc,${idColumn} asc`;
}
