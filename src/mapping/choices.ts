import { type Issues } from './result';

/**
 * QuickBooks list names (customer types, classes, terms) → Dataverse option values. Configuration, not code:
 * each company file names its terms and types its own way. Plain records so the maps travel in Temporal payloads.
 */
export type ChoiceMap = Readonly<Record<string, number>>;

export interface ChoiceMaps {
  /** QuickBooks customer type FullName → `account.accountcategorycode` option value. */
  customerTypes: ChoiceMap;
  /** QuickBooks class FullName → option value of the class choice. */
  classes: ChoiceMap;
  /** QuickBooks terms name → `paymenttermscode` option value. */
  terms: ChoiceMap;
}

export type ChoiceKind = keyof ChoiceMaps;

/** The `qbsync provision` option that adds a choice's options (the kinds the connector aligns with Dataverse). */
const PROVISION_OPTION: Partial<Record<ChoiceKind, string>> = {
  terms: '--terms',
  customerTypes: '--customer-types',
};

/** A name as one word of a POSIX shell command line. */
function shellWord(name: string): string {
  return `'${name.replace(/'/g, `'\\''`)}'`;
}

/** QuickBooks compares list names without regard to case, so the maps do too. */
function sameName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The option value for a QuickBooks name; an unmapped name is an error (naming the map to extend) rather than
 * a silently empty choice. Only own entries count, so a name like `constructor` cannot match a prototype member.
 */
export function choiceValue(
  issues: Issues,
  field: string,
  maps: ChoiceMaps,
  kind: ChoiceKind,
  name: string,
): number | undefined {
  const matches = Object.entries(maps[kind]).filter(([qbName]) => sameName(qbName, name));
  const values = [...new Set(matches.map(([, value]) => value))];
  if (values.length === 1) return values[0];
  if (values.length === 0) {
    const command = PROVISION_OPTION[kind];
    issues.add(
      field,
      'unmapped-choice',
      command === undefined
        ? `QuickBooks ${kind} "${name}" has no Dataverse option in choices.${kind}`
        : `QuickBooks ${kind} "${name}" has no Dataverse option: add it with \`qbsync provision ${command} ${shellWord(name)}\` ` +
            `(under an administrator's role; the sync's role may not add options), or map it in choices.${kind}`,
    );
  } else {
    issues.add(
      field,
      'ambiguous-choice',
      `QuickBooks ${kind} "${name}" maps to several options (${values.join(', ')})`,
    );
  }
  return undefined;
}

/**
 * The QuickBooks name for an option value (the reverse direction). Two names sharing one value cannot be
 * reversed, which is reported instead of picking one at random.
 */
export function choiceName(
  issues: Issues,
  field: string,
  maps: ChoiceMaps,
  kind: ChoiceKind,
  value: number,
): string | undefined {
  const names = Object.entries(maps[kind])
    .filter(([, v]) => v === value)
    .map(([name]) => name);
  const distinct = names.filter((n, i) => names.findIndex((m) => sameName(m, n)) === i);
  if (distinct.length === 1) return distinct[0];
  if (distinct.length === 0) {
    issues.add(field, 'unmapped-choice', `option ${value} of ${field} has no QuickBooks name in choices.${kind}`);
  } else {
    issues.add(field, 'ambiguous-choice', `option ${value} of ${field} is mapped from ${distinct.join(', ')}`);
  }
  return undefined;
}
