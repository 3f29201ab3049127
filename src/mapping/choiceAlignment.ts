import { type ChoiceMap } from './choices';
import { charLength } from './fields';

/** qbXML limit of a list entry's Name (customer type, terms). */
const QB_LIST_NAME_MAX = 31;

export interface ChoiceOption {
  value: number;
  label: string;
}

export interface ChoiceAlignment {
  /** Every QuickBooks name → option value: configured pairs first, then label matches. */
  map: ChoiceMap;
  /** QuickBooks names with no option: the caller adds an option with this label, then calls again. */
  createInDataverse: string[];
  /** Option labels with no QuickBooks name: the caller adds a list entry, then calls again. */
  createInQuickBooks: string[];
  /** Option labels QuickBooks cannot hold as one list name (over 31 characters): an operator renames them. */
  tooLongForQuickBooks: string[];
  /** Option labels with `:`, which QuickBooks reads as a sub-level separator: an operator renames them. */
  subLevelSeparatorInLabel: string[];
  /** Configured names whose option value the choice does not have (stale configuration); matched by label instead. */
  configuredWithoutOption: string[];
}

export interface ChoiceAlignmentInput {
  quickbooks: readonly string[];
  dataverse: readonly ChoiceOption[];
  configured?: ChoiceMap;
  /** Whether the connector may add list entries in QuickBooks (customer types yes, terms no). Default false. */
  createInQuickBooks?: boolean;
}

/**
 * The form two labels are compared in: case, punctuation and spacing vanish (`2% 10, Net 30` = `2% 10 Net 30`,
 * `net30` = `Net 30`), but a boundary between two numbers stays, so `2/10` never equals `210` and `Net 30` never
 * equals `Net 3`.
 */
export function choiceLabelKey(label: string): string {
  const tokens =
    label
      .normalize('NFKC')
      .toLowerCase()
      .match(/\p{L}+|\p{N}+/gu) ?? [];
  let key = '';
  let previousNumeric = false;
  for (const token of tokens) {
    const numeric = /^\p{N}/u.test(token);
    if (numeric && previousNumeric) key += '|';
    key += token;
    previousNumeric = numeric;
  }
  // A label of punctuation only still has to match itself, and nothing else.
  return key === '' ? `=${label.trim().toLowerCase()}` : key;
}

/** QuickBooks compares list names without regard to case. */
function sameQuickBooksName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * Pairs QuickBooks list names with the options of a Dataverse choice and says what is missing on each side.
 * Deterministic: everything comes out in input order, so the same lists always give the same proposals and a
 * retried workflow creates nothing twice.
 */
export function alignChoices(input: ChoiceAlignmentInput): ChoiceAlignment {
  const options = input.dataverse.filter((o) => o.label.trim() !== '');
  const optionValues = new Set(input.dataverse.map((o) => o.value));
  const configured = Object.entries(input.configured ?? {});
  const names = input.quickbooks
    .map((n) => n.trim())
    .filter((n, i, all) => n !== '' && all.findIndex((m) => sameQuickBooksName(m, n)) === i);

  const entries: [string, number][] = [];
  const createInDataverse: string[] = [];
  const configuredWithoutOption: string[] = [];
  const proposedKeys = new Set<string>();
  for (const name of names) {
    const pair = configured.find(([qbName]) => sameQuickBooksName(qbName, name));
    if (pair !== undefined && optionValues.has(pair[1])) {
      entries.push([name, pair[1]]);
      continue;
    }
    if (pair !== undefined) configuredWithoutOption.push(name);
    const option = labelMatch(name, options);
    if (option !== undefined) {
      entries.push([name, option.value]);
      continue;
    }
    // Two spellings of one missing name make one option; on the next call both match it.
    const key = choiceLabelKey(name);
    if (!proposedKeys.has(key)) {
      proposedKeys.add(key);
      createInDataverse.push(name);
    }
  }

  const createInQuickBooks: string[] = [];
  const tooLongForQuickBooks: string[] = [];
  const subLevelSeparatorInLabel: string[] = [];
  if (input.createInQuickBooks === true) {
    const mappedValues = new Set(entries.map(([, v]) => v));
    // An option whose label some QuickBooks name already matches is covered even if that name went to a twin.
    const nameKeys = new Set(names.map(choiceLabelKey));
    const offeredKeys = new Set<string>();
    for (const option of options) {
      const label = option.label.trim();
      const key = choiceLabelKey(label);
      if (mappedValues.has(option.value) || nameKeys.has(key) || offeredKeys.has(key)) continue;
      offeredKeys.add(key);
      if (charLength(label) > QB_LIST_NAME_MAX) tooLongForQuickBooks.push(label);
      else if (label.includes(':')) subLevelSeparatorInLabel.push(label);
      else createInQuickBooks.push(label);
    }
  }

  return {
    // fromEntries defines own properties, so a name like `__proto__` stays an ordinary key.
    map: Object.fromEntries(entries),
    createInDataverse,
    createInQuickBooks,
    tooLongForQuickBooks,
    subLevelSeparatorInLabel,
    configuredWithoutOption,
  };
}

/** Prefers the option spelled exactly like the name (ignoring case), then the first in the choice's order. */
function labelMatch(name: string, options: readonly ChoiceOption[]): ChoiceOption | undefined {
  const key = choiceLabelKey(name);
  const matches = options.filter((o) => choiceLabelKey(o.label) === key);
  return matches.find((o) => sameQuickBooksName(o.label, name)) ?? matches[0];
}

/** Two maps of QuickBooks names to Dataverse option values hold the same pairs. */
export function sameChoiceMap(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
}
