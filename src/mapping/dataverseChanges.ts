/**
 * Which Dynamics rows a poll cycle reads as changed, and where its cursors move to. Rows are read in one total order,
 * `modifiedon` then the row's id, and a cursor is the position of the last row handed off in that order: its
 * `modifiedon` (`d365:<entity>`) and its mark (`d365:<entity>:seen`: the row's id, and the highest row version the
 * read saw). `modifiedon` alone is not enough: it is to the second, and a mass update stamps thousands of rows with one
 * second, more than a cycle hands off, so a cursor that could only say "from this second on" would read the same first
 * rows again every cycle and never move.
 *
 * The position alone is not enough either: a row read at the cursor's second and saved again within that same second
 * keeps its `modifiedon`, and its id lies before the position, so the next read starts after it; with the save's
 * webhook lost, that save would never be synced. So each read also reads the cursor's second again up to the position
 * (the overlap) and hands off only the rows whose version is newer than any the last read saw: a save after the read,
 * never a row already handed off. Row versions are the number of the row's ETag (`W/"<versionnumber>"`), which
 * Dataverse draws from one counter for the whole organisation (SQL Server rowversion), so a save after a read always
 * carries a higher version than every row that read saw. Assumption, not confirmed in Microsoft's documentation: that
 * the counter is organisation-wide, not per table; per table would still hold here, since each table has its own
 * cursor.
 */

/** Where an entity's reading resumes: after the row `afterId` of the second `since` (or at that second, without it). */
export interface DataverseChangePosition {
  since?: string;
  afterId?: string;
  /** Highest row version the last read saw (absent in marks written before the overlap: no overlap then). */
  seenVersion?: bigint;
}

const VERSION_SEPARATOR = '@';

/** The `:seen` companion of a cursor: the last row's id, and with it the highest version read (`<id>@<version>`). */
export function positionMark(afterId: string, seenVersion: bigint | undefined): string {
  return seenVersion === undefined ? afterId : `${afterId}${VERSION_SEPARATOR}${seenVersion.toString()}`;
}

/** Reads a `:seen` mark back; a bare id (a mark written before versions were kept) has no version. */
export function readPositionMark(mark: string | undefined): Pick<DataverseChangePosition, 'afterId' | 'seenVersion'> {
  if (!mark) return {};
  const at = mark.lastIndexOf(VERSION_SEPARATOR);
  if (at < 0) return { afterId: mark };
  const version = mark.slice(at + 1);
  const afterId = mark.slice(0, at);
  return /^\d+$/.test(version) ? { afterId, seenVersion: BigInt(version) } : { afterId: mark };
}

/** The row version of an ETag (`W/"1234"`), or undefined when it carries none. */
export function rowVersionOf(etag: string | undefined): bigint | undefined {
  const digits = etag?.match(/^(?:W\/)?"(\d+)"$/)?.[1];
  return digits === undefined ? undefined : BigInt(digits);
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

/**
 * The `$filter` clause of the overlap: the rows of the cursor's second up to the position, which `changedSince` skips
 * and among which a row saved again within that second hides. Undefined when the mark carries no version to tell such
 * a save from a row already handed off.
 */
export function savedAgainWithin(position: DataverseChangePosition, idColumn: string): string | undefined {
  const { since, afterId, seenVersion } = position;
  if (!since || !afterId || seenVersion === undefined) return undefined;
  return `modifiedon eq ${since} and ${idColumn} le ${afterId}`;
}

/** Whether a row read in the overlap was saved after the last read (its version is newer than any that read saw). */
export function savedAfterRead(etag: string | undefined, seenVersion: bigint): boolean {
  const version = rowVersionOf(etag);
  return version !== undefined && version > seenVersion;
}

/** The total order the rows are read in; the id breaks ties within a second, as the position does. */
export function changeOrder(idColumn: string): string {
  return `modifiedon asc,${idColumn} asc`;
}
