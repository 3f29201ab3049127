/**
 * The targets of `npm run bench` (bench/syncPhases.ts), each with what it measured and whether it is met; where the
 * per-row initial load measured the same figure in the same run (issue 15: the connector with one Dataverse request a
 * row, on a sample), that figure beside the bulk one, judged by the same rule.
 */

/** One target's figures: the bulk initial load's, and the per-row load's where it has one of the same kind. */
export interface BenchTarget<T> {
  measured: T;
  target: string;
  met: boolean;
  note?: string;
  /** `note`: what the two figures do not share (the per-row load is a sample, without the bulk load's orders). */
  perRow?: { bulk: T; perRow: T; met: boolean; note?: string };
}

/** A target, met when `isMet` holds of the figure; with `perRow`, the per-row load's figure judged by the same rule. */
export function benchTarget<T>(
  measured: T,
  goal: string,
  isMet: (figure: T) => boolean,
  options: { note?: string; perRow?: T; perRowNote?: string } = {},
): BenchTarget<T> {
  const { note, perRow, perRowNote } = options;
  return {
    measured,
    target: goal,
    met: isMet(measured),
    ...(note ? { note } : {}),
    ...(perRow === undefined
      ? {}
      : { perRow: { bulk: measured, perRow, met: isMet(perRow), ...(perRowNote ? { note: perRowNote } : {}) } }),
  };
}

const verdict = (met: boolean): string => (met ? 'met' : 'not met');

/** A targets section as Markdown rows: the bulk figure, and the per-row one where measured (`–` where not). */
export function targetRows(targets: Readonly<Record<string, BenchTarget<unknown>>>): string[] {
  const rows = ['| target | measured | met | per-row | per-row met |', '|---|---|---|---|---|'];
  for (const [name, t] of Object.entries(targets)) {
    const perRow = t.perRow ? `| ${JSON.stringify(t.perRow.perRow)} | ${verdict(t.perRow.met)} |` : '| – | – |';
    rows.push(`| ${name} | ${JSON.stringify(t.measured)} | ${verdict(t.met)} ${perRow}`);
  }
  return rows;
}
