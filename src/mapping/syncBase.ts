import {
  ADDRESS_PARTS,
  type AccountRecord,
  type AccountWrite,
  type ProductRecord,
  type ProductWrite,
} from './dataverseRows';
import { ACTIVE_STATE_COLUMN, activeStateValue } from './activeStatus';
import { Dec, sameDecimal } from './money';
import { type ConflictResolution, type OwnershipPolicy, resolveConflict, type SystemSide } from './ownership';
import { Issues, type MappingError, type MappingResult } from './result';

/**
 * Column name (Dataverse logical name) → normalised value: text trimmed (blank → null), money as canonical decimal
 * text with at least two places, choices as numbers. Both systems' versions and the stored base are projected the
 * same way, so "changed" means a real change and not a difference in formatting.
 */
export type SyncFields = Readonly<Record<string, string | number | null>>;

/** Length of the `qbsync_syncbase` text column. */
export const SYNC_BASE_MAX_LENGTH = 4000;

const ADDRESS_PREFIXES = ['address1', 'address2'] as const;
const ACCOUNT_ADDRESS_COLUMNS = ADDRESS_PREFIXES.flatMap((prefix) => ADDRESS_PARTS.map((part) => `${prefix}_${part}`));

export const ACCOUNT_SYNC_COLUMNS: readonly string[] = [
  'name',
  'accountnumber',
  'telephone1',
  'fax',
  'emailaddress1',
  'paymenttermscode',
  'creditlimit',
  'accountcategorycode',
  ...ACCOUNT_ADDRESS_COLUMNS,
  ACTIVE_STATE_COLUMN,
];

export const PRODUCT_SYNC_COLUMNS: readonly string[] = [
  'name',
  'description',
  'price',
  'standardcost',
  ACTIVE_STATE_COLUMN,
];

const MONEY_COLUMNS: ReadonlySet<string> = new Set(['creditlimit', 'price', 'standardcost']);
const CHOICE_COLUMNS: ReadonlySet<string> = new Set(['paymenttermscode', 'accountcategorycode']);

/** Column → the ownership-policy field that decides it when both systems changed it. */
const ACCOUNT_COLUMN_GROUPS: Readonly<Record<string, string>> = {
  name: 'name',
  accountnumber: 'accountNumber',
  telephone1: 'phone',
  fax: 'phone',
  emailaddress1: 'email',
  paymenttermscode: 'terms',
  creditlimit: 'creditLimit',
  accountcategorycode: 'category',
  [ACTIVE_STATE_COLUMN]: 'active',
  ...Object.fromEntries(ACCOUNT_ADDRESS_COLUMNS.map((column) => [column, 'address'])),
};

export const PRODUCT_COLUMN_GROUPS: Readonly<Record<string, string>> = {
  name: 'name',
  description: 'description',
  price: 'price',
  standardcost: 'cost',
  [ACTIVE_STATE_COLUMN]: 'active',
};

/** Account and product columns never share a name with different meanings, so one table serves both. */
const DEFAULT_COLUMN_GROUPS: Readonly<Record<string, string>> = { ...ACCOUNT_COLUMN_GROUPS, ...PRODUCT_COLUMN_GROUPS };

// ---- projection --------------------------------------------------------------------------------------------

export function accountSyncFields(row: AccountWrite | AccountRecord): SyncFields {
  return project(row, ACCOUNT_SYNC_COLUMNS);
}

export function productSyncFields(row: ProductWrite | ProductRecord): SyncFields {
  return project(row, PRODUCT_SYNC_COLUMNS);
}

function project(row: object, columns: readonly string[]): SyncFields {
  const source = row as Readonly<Record<string, unknown>>;
  const fields: Record<string, string | number | null> = {};
  for (const column of columns) {
    const value = Object.prototype.hasOwnProperty.call(source, column) ? source[column] : undefined;
    fields[column] = normalise(column, value);
  }
  return fields;
}

function normalise(column: string, value: unknown): string | number | null {
  if (column === ACTIVE_STATE_COLUMN) return activeStateValue(value);
  if (CHOICE_COLUMNS.has(column)) return typeof value === 'number' && Number.isFinite(value) ? value : null;
  const raw = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof raw !== 'string') return null;
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  return MONEY_COLUMNS.has(column) ? moneyText(trimmed) : trimmed;
}

const DECIMAL_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * At least two decimals so `5000` and `5000.00` agree, but never fewer than the value has: a four-decimal
 * Dataverse price rounded to the cent here would be written back rounded to both systems. Malformed text stays as
 * it is; it then equals only itself and the entity mapping reports it.
 */
function moneyText(text: string): string {
  if (!DECIMAL_TEXT.test(text)) return text;
  const d = new Dec(text);
  const places = Math.max(2, d.decimalPlaces());
  return (d.isZero() ? d.abs() : d).toFixed(places);
}

// ---- the stored base ---------------------------------------------------------------------------------------

/**
 * A value replaced by its digest because the whole base would not fit the column. The merge only compares the
 * base against current values and never copies a value out of it, so a digest keeps change detection exact
 * enough while the readable values stay for every base that fits. XML cannot carry NUL, so no
 * QuickBooks value starts with it.
 */
const DIGEST_MARK = '\u0000digest:';

/**
 * The QuickBooks version (EditSequence and TimeModified) both systems agreed at when a base was written. A record run
 * can carry a version read long before it runs (the poll's read, delayed by QBWC or a fault); meanwhile a Dynamics →
 * QuickBooks run may have written a newer version to QuickBooks and its fields to the base. Merged against that base,
 * the carried version's old values would look like QuickBooks edits and go to Dynamics (issue 11, the chaos run's
 * phone); knowing the base's version, the run reads the record again instead (`quickbooksVersionSuperseded`).
 */
export interface QuickBooksVersion {
  editSequence: string;
  timeModified: string;
}

/**
 * Key of the QuickBooks version in the stored base; no column name starts with `@`. Other engineers' keys sit beside
 * it (`@dynamicsEdits`, `@quickbooksForm`), so the name must stay exactly this.
 */
const QUICKBOOKS_VERSION_KEY = '@quickbooksVersion';

/** The version of a QuickBooks record as the base records it. */
export function quickbooksVersionOf(record: { editSequence: string; timeModified?: string }): QuickBooksVersion {
  return { editSequence: record.editSequence, timeModified: record.timeModified ?? '' };
}

/**
 * What a base may keep beside its fields, by name: a QuickBooks version has the shape of a one-column QuickBooks form
 * (strings by key), so as two optional arguments in a row one could be passed for the other and still type-check.
 */
interface SyncBaseMarks {
  quickbooksForm?: QuickBooksForm | null;
  quickbooksVersion?: QuickBooksVersion | null;
}

/**
 * The marks as given, holding no key they do not name. A QuickBooks form has string keys, so it would pass for marks
 * that name none of its keys (and be dropped without a word); this makes passing a form bare a type error.
 */
type OnlySyncBaseMarks<M> = M &
  ([Exclude<keyof M, keyof SyncBaseMarks>] extends [never]
    ? unknown
    : Record<Exclude<keyof M, keyof SyncBaseMarks>, never>);

/**
 * Sorted keys, so equal fields always give equal text and rewriting an unchanged base is a no-op. With a
 * `quickbooksForm`, the base also keeps how QuickBooks holds the text it could not store as it is (see
 * {@link QuickBooksForm}); with a `quickbooksVersion`, the QuickBooks version the fields were agreed at (see
 * {@link QuickBooksVersion}). Each is left out when the column has no room for it: a base without them is still a
 * whole base.
 */
export function encodeSyncBase<M extends SyncBaseMarks>(fields: SyncFields, marks?: OnlySyncBaseMarks<M>): string {
  const { quickbooksForm, quickbooksVersion }: SyncBaseMarks = marks ?? {};
  const text = withQuickBooksForm(encodePlainSyncBase(fields), quickbooksForm);
  if (!quickbooksVersion) return text;
  const withVersion = withBaseMark(text, QUICKBOOKS_VERSION_KEY, {
    editSequence: quickbooksVersion.editSequence,
    timeModified: quickbooksVersion.timeModified,
  });
  return withVersion.length <= SYNC_BASE_MAX_LENGTH ? withVersion : text;
}

function withQuickBooksForm(text: string, quickbooksForm: QuickBooksForm | null | undefined): string {
  if (!quickbooksForm || Object.keys(quickbooksForm).length === 0) return text;
  const sorted = Object.entries(quickbooksForm).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Readable when it fits; the merge only compares it with what QuickBooks holds, so digests serve as well.
  for (const form of [sorted, sorted.map(([column, value]) => [column, digest(value)])]) {
    const withForm = withBaseMark(text, QUICKBOOKS_FORM_KEY, Object.fromEntries(form));
    if (withForm.length <= SYNC_BASE_MAX_LENGTH) return withForm;
  }
  return text;
}

/** `text` (an encoded base) with one more `@` key, kept after the columns. */
function withBaseMark(text: string, key: string, value: unknown): string {
  const mark = JSON.stringify({ [key]: value }).slice(1, -1);
  return text === '{}' ? `{${mark}}` : `${text.slice(0, -1)},${mark}}`;
}

/**
 * The stored base as it would be written again without its QuickBooks version: whether a base must be rewritten is
 * decided on its fields, so a record whose version moved with no synced field changing costs no Dataverse write (the
 * older version kept is only less of a guard, never a wrong one).
 */
export function withoutQuickBooksVersion(text: string | null | undefined): string | null {
  if (text === null || text === undefined || !text.includes(QUICKBOOKS_VERSION_KEY)) return text ?? null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return text;
  const rest = Object.entries(parsed as Record<string, unknown>).filter(([key]) => key !== QUICKBOOKS_VERSION_KEY);
  return JSON.stringify(Object.fromEntries(rest));
}

/** The QuickBooks version a stored base was agreed at, or null (written by older code, or not readable). */
export function decodeQuickBooksVersion(text: string | null | undefined): QuickBooksVersion | null {
  if (text === null || text === undefined || !text.includes(QUICKBOOKS_VERSION_KEY)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const version = (parsed as Record<string, unknown> | null)?.[QUICKBOOKS_VERSION_KEY] as
    { editSequence?: unknown; timeModified?: unknown } | undefined;
  if (!version || typeof version.editSequence !== 'string' || typeof version.timeModified !== 'string') return null;
  return { editSequence: version.editSequence, timeModified: version.timeModified };
}

const DECIMAL_DIGITS = /^\d+$/;

/**
 * True when `carried` is an older version of the record than the one the base was agreed at: merging it would take
 * its old values for QuickBooks edits. Ordered by TimeModified (an instant, offsets compared); within one second by
 * EditSequence, read as a number. The reference calls EditSequence opaque: that it grows with each edit is an
 * assumption (real files show it as a Unix time, the sandbox keeps it increasing), used only to break a tie of
 * TimeModified. Anything unreadable, or a base without a version, is not superseded: the merge then goes on as it did
 * before versions were recorded.
 */
export function quickbooksVersionSuperseded(
  storedBase: string | null | undefined,
  carried: QuickBooksVersion,
): boolean {
  const agreed = decodeQuickBooksVersion(storedBase);
  if (agreed === null || agreed.editSequence === carried.editSequence) return false;
  const carriedAt = Date.parse(carried.timeModified);
  const agreedAt = Date.parse(agreed.timeModified);
  if (Number.isNaN(carriedAt) || Number.isNaN(agreedAt)) return false;
  if (carriedAt !== agreedAt) return carriedAt < agreedAt;
  if (!DECIMAL_DIGITS.test(carried.editSequence) || !DECIMAL_DIGITS.test(agreed.editSequence)) return false;
  return BigInt(carried.editSequence) < BigInt(agreed.editSequence);
}

function encodePlainSyncBase(fields: SyncFields): string {
  // An active record's base is the text it was before active status was synced (`activeStatus.ts`).
  const entries = Object.entries(fields)
    .filter(([column, value]) => !(column === ACTIVE_STATE_COLUMN && value === null))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const values = new Map(entries);
  const encode = (): string => JSON.stringify(Object.fromEntries(entries.map(([k]) => [k, values.get(k) ?? null])));
  let text = encode();
  if (text.length <= SYNC_BASE_MAX_LENGTH) return text;
  const longestFirst = entries
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .sort(([ka, a], [kb, b]) => b.length - a.length || (ka < kb ? -1 : 1));
  for (const [key, value] of longestFirst) {
    values.set(key, digest(value));
    text = encode();
    if (text.length <= SYNC_BASE_MAX_LENGTH) break;
  }
  return text;
}

/**
 * Columns a person saved in Dynamics that a sync base was written over without taking (see
 * `planWriteBackOverEdit`): the row then differs from its base in those columns, and the row's `modifiedon` is the
 * connector's own write, later than the save. "Later change wins" must weigh the save's time, not the write's: so the
 * base keeps, next to the fields, when the row was last saved before the connector wrote over it (`at`, its
 * `modifiedon` as read then) and the values those columns held then (strings as digests, to stay small). A column
 * that still holds that value was changed at `at` or before; one that holds anything else was saved since, at the
 * row's `modifiedon`.
 */
export interface DynamicsEdits {
  at: string;
  columns: SyncFields;
}

/** Key of the edits in the stored base; no column name starts with `@`. */
const DYNAMICS_EDITS_KEY = '@dynamicsEdits';

/**
 * The base with the Dynamics edits it was written over, or the plain base when there are none. Without room for the
 * edits in the column, the plain base: the merge then weighs the row's `modifiedon`, as it always did.
 */
export function encodeSyncBaseWithEdits<M extends SyncBaseMarks>(
  fields: SyncFields,
  edits: DynamicsEdits | null | undefined,
  marks?: OnlySyncBaseMarks<M>,
): string {
  const text = encodeSyncBase<SyncBaseMarks>(fields, marks);
  if (!edits || Object.keys(edits.columns).length === 0) return text;
  const columns = Object.fromEntries(
    Object.entries(edits.columns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([column, value]) => [column, typeof value === 'string' ? digest(value) : value]),
  );
  const withEdits = withBaseMark(text, DYNAMICS_EDITS_KEY, { at: edits.at, columns });
  return withEdits.length <= SYNC_BASE_MAX_LENGTH ? withEdits : text;
}

/**
 * Text QuickBooks cannot store (outside Windows-1252) reaches it transliterated (`qbxml/charset.ts`): Dynamics keeps
 * `Ελληνικά ΑΕ` while QuickBooks holds `Ellinika AE`. The base keeps the Dynamics form as the column's value and, per
 * column, the form QuickBooks holds, so that reading `Ellinika AE` back from QuickBooks is recognised as the echo of
 * the connector's own write and never taken for a QuickBooks edit that would overwrite the original in Dynamics.
 * Column → the text as QuickBooks holds it (a digest when the base had no room for the text).
 */
export type QuickBooksForm = Readonly<Record<string, string>>;

/** Key of the QuickBooks forms in the stored base; no column name starts with `@`. */
const QUICKBOOKS_FORM_KEY = '@quickbooksForm';

/** The QuickBooks forms a stored base keeps, or null (none: a base written by older code, or not readable). */
export function decodeQuickBooksForm(text: string | null | undefined): QuickBooksForm | null {
  if (text === null || text === undefined || !text.includes(QUICKBOOKS_FORM_KEY)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const form = (parsed as Record<string, unknown> | null)?.[QUICKBOOKS_FORM_KEY];
  if (form === null || typeof form !== 'object' || Array.isArray(form)) return null;
  const columns: Record<string, string> = {};
  for (const [column, value] of Object.entries(form as Record<string, unknown>)) {
    if (typeof value !== 'string') return null;
    columns[column] = value;
  }
  return columns;
}

/**
 * The text columns of `base` that QuickBooks holds as `quickbooksText` makes them (the connection's transliteration),
 * each with the form QuickBooks holds: what a base written now must keep next to the Dynamics form. `quickbooks` is
 * the record as QuickBooks holds it after taking `base`; a column it holds any other way is not recorded.
 */
export function quickbooksFormOf(
  base: SyncFields,
  quickbooks: SyncFields,
  quickbooksText: (text: string) => string,
): QuickBooksForm {
  const form: Record<string, string> = {};
  for (const [column, value] of Object.entries(base)) {
    const held = valueOf(quickbooks, column);
    if (typeof value !== 'string' || typeof held !== 'string' || sameColumnValue(column, value, held)) continue;
    if (sameColumnValue(column, quickbooksText(value), held)) form[column] = held;
  }
  return form;
}

/** `fields` with `columns` taken from `from`: a QuickBooks record with its echoes read as the base they echo. */
export function withColumnsOf(fields: SyncFields, from: SyncFields, columns: readonly string[]): SyncFields {
  const out: Record<string, string | number | null> = { ...fields };
  for (const column of columns) out[column] = valueOf(from, column);
  return out;
}

/** `form` restricted to `columns`. */
export function quickbooksFormFor(form: QuickBooksForm | null, columns: readonly string[]): QuickBooksForm {
  const kept: Record<string, string> = {};
  for (const column of columns) {
    const value = form?.[column];
    if (value !== undefined) kept[column] = value;
  }
  return kept;
}

/** The Dynamics edits a stored base was written over, or null (none, or not readable). */
export function decodeDynamicsEdits(text: string | null | undefined): DynamicsEdits | null {
  if (text === null || text === undefined || !text.includes(DYNAMICS_EDITS_KEY)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const edits = (parsed as Record<string, unknown> | null)?.[DYNAMICS_EDITS_KEY] as
    { at?: unknown; columns?: unknown } | undefined;
  if (!edits || typeof edits.at !== 'string' || edits.columns === null || typeof edits.columns !== 'object') {
    return null;
  }
  const columns: Record<string, string | number | null> = {};
  for (const [column, value] of Object.entries(edits.columns as Record<string, unknown>)) {
    if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      columns[column] = value;
    } else {
      return null;
    }
  }
  return { at: edits.at, columns };
}

/**
 * Column → when its Dynamics value was saved, for the columns that still hold a value the base was written over
 * (`DynamicsEdits`); other columns changed at the row's `modifiedon`.
 */
export function dynamicsEditTimes(edits: DynamicsEdits | null, dynamics: SyncFields): Record<string, string> {
  if (!edits) return {};
  const times: Record<string, string> = {};
  for (const [column, value] of Object.entries(edits.columns)) {
    if (sameColumnValue(column, value, valueOf(dynamics, column))) times[column] = edits.at;
  }
  return times;
}

/** Null for anything that is not a base this module wrote: a damaged base is treated as never synced. */
export function decodeSyncBase(text: string | null | undefined): SyncFields | null {
  if (text === null || text === undefined || text.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const fields: Record<string, string | number | null> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    // Not columns: what the base keeps about them (`@dynamicsEdits`, `@quickbooksForm`, `@quickbooksVersion`).
    if (key.startsWith('@')) continue;
    if (value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      fields[key] = value;
    } else {
      return null;
    }
  }
  return fields;
}

/** Two independent 32-bit FNV-1a style lanes plus the length: collisions are far rarer than real edits. */
function digest(value: string): string {
  let a = 0x811c9dc5;
  let b = 0x6c62272e;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
  return `${DIGEST_MARK}${hex(a)}${hex(b)}:${value.length}`;
}

// ---- comparison --------------------------------------------------------------------------------------------

function sameColumnValue(column: string, a: string | number | null, b: string | number | null): boolean {
  const x = typeof a === 'string' ? (a.trim() === '' ? null : a.trim()) : a;
  const y = typeof b === 'string' ? (b.trim() === '' ? null : b.trim()) : b;
  if (x === null || y === null) return x === y;
  if (typeof x === 'string' && typeof y === 'string') {
    if (x.startsWith(DIGEST_MARK) !== y.startsWith(DIGEST_MARK)) {
      return x.startsWith(DIGEST_MARK) ? x === digest(y) : y === digest(x);
    }
    if (MONEY_COLUMNS.has(column)) return sameDecimal(x, y);
  }
  return x === y;
}

function valueOf(fields: SyncFields, column: string): string | number | null {
  return Object.prototype.hasOwnProperty.call(fields, column) ? (fields[column] ?? null) : null;
}

/** Equal on every column either side names; a missing column equals null. */
export function sameSyncFields(a: SyncFields, b: SyncFields): boolean {
  return unionOfColumns([a, b]).every((column) => sameColumnValue(column, valueOf(a, column), valueOf(b, column)));
}

function unionOfColumns(all: readonly (SyncFields | null)[]): string[] {
  const seen = new Set<string>();
  for (const fields of all) if (fields !== null) for (const column of Object.keys(fields)) seen.add(column);
  return [...seen];
}

// ---- merge -------------------------------------------------------------------------------------------------

export interface FieldConflict {
  /** The ownership-policy field that decided it, e.g. `address`. */
  field: string;
  /** The columns whose merged value this decision set. */
  columns: string[];
  /** Those columns at the last sync; null on a first pairing. */
  base: Record<string, unknown> | null;
  quickbooks: Record<string, unknown>;
  dynamics: Record<string, unknown>;
  winner: SystemSide;
  reason: ConflictResolution<unknown>['reason'];
}

export interface SyncMerge {
  /** The values both systems should hold after this sync. */
  merged: SyncFields;
  /** Columns whose QuickBooks value differs from the base. */
  changedInQuickBooks: string[];
  /** Columns whose Dataverse value differs from the base. */
  changedInDynamics: string[];
  /** Both sides changed the same unit to different values; one entry per unit. */
  conflicts: FieldConflict[];
  /**
   * Columns QuickBooks holds in its own form of the merged value (`quickbooksForm`): not a QuickBooks change, and
   * nothing QuickBooks must take, because Dynamics did not change them either.
   */
  heldInQuickBooksForm: string[];
}

export interface SyncMergeInput {
  /** Null: never synced (first pairing). */
  base: SyncFields | null;
  quickbooks: SyncFields;
  /** Null: no Dataverse row yet. */
  dynamics: SyncFields | null;
  /** QuickBooks TimeModified, ISO with offset. */
  qbModifiedAt: string;
  /** Dataverse modifiedon (UTC), or null when there is no row. */
  dvModifiedAt: string | null;
  /**
   * Column → when its Dynamics value was saved, where that is earlier than `dvModifiedAt` (`dynamicsEditTimes`: a
   * value the connector wrote a base over, the row's modifiedon then being the connector's write).
   */
  dvEditedAt?: Readonly<Record<string, string>>;
  policy: OwnershipPolicy;
  /** Column → policy field name; account and product columns by default, any other column is its own field. */
  columnGroups?: Readonly<Record<string, string>>;
  /**
   * How QuickBooks holds the base's text it could not store as it is (the stored base's `@quickbooksForm`): a
   * QuickBooks value equal to it is the echo of the base, not a QuickBooks edit.
   */
  quickbooksForm?: QuickBooksForm | null;
}

/**
 * The unit a conflict is decided for. An address is one unit per prefix: taking the street from one system and
 * the city from the other would produce an address neither side ever held. Other columns are decided one by one
 * and share a conflict record per policy field.
 */
function unitOf(column: string, field: string): string {
  const address = /^(.+)_([a-z0-9]+)$/.exec(column);
  if (field === 'address' && address !== null && (ADDRESS_PARTS as readonly string[]).includes(address[2] ?? '')) {
    return `address:${address[1] ?? ''}`;
  }
  return `field:${field}`;
}

/**
 * Three-way merge of one paired record. A column changed on one side only takes that side's value; changed on
 * both sides to different values it is decided by the ownership policy (`resolveConflict`), and the decision is
 * recorded. Without a base (first pairing of records that already existed on both sides) every difference is a
 * change on both sides, so the policy, not the order of discovery, decides.
 */
export function mergeSyncFields(input: SyncMergeInput): MappingResult<SyncMerge> {
  const { base, quickbooks, dynamics, policy } = input;
  const groups = input.columnGroups ?? DEFAULT_COLUMN_GROUPS;
  const fieldOf = (column: string): string =>
    Object.prototype.hasOwnProperty.call(groups, column) ? (groups[column] ?? column) : column;
  const columns = unionOfColumns([quickbooks, dynamics, base]);
  const same = (column: string, a: SyncFields | null, b: SyncFields | null): boolean =>
    sameColumnValue(column, a === null ? null : valueOf(a, column), b === null ? null : valueOf(b, column));

  if (dynamics === null) {
    const merged: Record<string, string | number | null> = {};
    for (const column of columns) merged[column] = valueOf(quickbooks, column);
    return {
      ok: true,
      value: {
        merged,
        changedInQuickBooks: columns.filter((column) => !same(column, quickbooks, base)),
        changedInDynamics: [],
        conflicts: [],
        heldInQuickBooksForm: [],
      },
    };
  }

  const form = base === null ? null : (input.quickbooksForm ?? null);
  const echoes = new Set(
    columns.filter((c) => {
      const held = form?.[c];
      return held !== undefined && !same(c, quickbooks, base) && sameColumnValue(c, held, valueOf(quickbooks, c));
    }),
  );
  const changedInQuickBooks =
    base === null
      ? columns.filter((c) => !same(c, quickbooks, dynamics))
      : columns.filter((c) => !same(c, quickbooks, base) && !echoes.has(c));
  const changedInDynamics = base === null ? [...changedInQuickBooks] : columns.filter((c) => !same(c, dynamics, base));
  const qbChanged = new Set(changedInQuickBooks);
  const dvChanged = new Set(changedInDynamics);
  const conflicting = columns.filter((c) => qbChanged.has(c) && dvChanged.has(c) && !same(c, quickbooks, dynamics));

  const issues = new Issues();
  const winners = new Map<string, { field: string; resolution: ConflictResolution<unknown> }>();
  const units = new Map<string, string[]>();
  for (const column of columns) {
    const unit = unitOf(column, fieldOf(column));
    units.set(unit, [...(units.get(unit) ?? []), column]);
  }
  const conflicts: FieldConflict[] = [];
  const decidedBy = new Map<string, string>();
  for (const [unit, unitColumns] of units) {
    const inConflict = unitColumns.filter((c) => conflicting.includes(c));
    if (inConflict.length === 0) continue;
    const field = fieldOf(unitColumns[0] ?? unit);
    const wholeUnit = unit.startsWith('address:');
    // A whole address is replaced by the winner's, so every part in which the sides differ is part of the decision.
    const decided = wholeUnit ? unitColumns.filter((c) => !same(c, quickbooks, dynamics)) : inConflict;
    const pick = (fields: SyncFields): Record<string, unknown> =>
      Object.fromEntries(decided.map((c) => [c, valueOf(fields, c)]));
    const result = resolveConflict<Record<string, unknown>>(
      field,
      pick(quickbooks),
      pick(dynamics),
      input.qbModifiedAt,
      dynamicsChangedAt(decided, input.dvModifiedAt ?? '', input.dvEditedAt),
      policy,
    );
    const resolution = issues.absorb(result);
    if (resolution === undefined) continue;
    winners.set(unit, { field, resolution });
    for (const c of decided) decidedBy.set(c, unit);
    conflicts.push({
      field,
      columns: decided,
      base: base === null ? null : pick(base),
      quickbooks: pick(quickbooks),
      dynamics: pick(dynamics),
      winner: resolution.winner,
      reason: resolution.reason,
    });
  }
  if (issues.failed) return { ok: false, errors: distinct(issues.errors) };

  const merged: Record<string, string | number | null> = {};
  for (const column of columns) {
    const unit = decidedBy.get(column);
    const winner = unit === undefined ? undefined : winners.get(unit)?.resolution.winner;
    if (winner !== undefined) merged[column] = valueOf(winner === 'quickbooks' ? quickbooks : dynamics, column);
    else if (dvChanged.has(column) && !qbChanged.has(column)) merged[column] = valueOf(dynamics, column);
    // QuickBooks echoes the base, which Dynamics still holds in its own form: that form stays.
    else if (echoes.has(column)) merged[column] = valueOf(dynamics, column);
    else merged[column] = valueOf(quickbooks, column);
  }
  const heldInQuickBooksForm = [...echoes].filter((c) => !dvChanged.has(c));
  return { ok: true, value: { merged, changedInQuickBooks, changedInDynamics, conflicts, heldInQuickBooksForm } };
}

/**
 * When Dynamics' side of a unit was saved: the latest of its columns' own save times when each has one, else the row's
 * modifiedon (a column saved since the connector last wrote the row).
 */
function dynamicsChangedAt(
  columns: readonly string[],
  modifiedAt: string,
  editedAt: Readonly<Record<string, string>> | undefined,
): string {
  if (!editedAt || columns.length === 0) return modifiedAt;
  let latest: string | undefined;
  for (const column of columns) {
    const at = Object.prototype.hasOwnProperty.call(editedAt, column) ? editedAt[column] : undefined;
    if (at === undefined || Number.isNaN(Date.parse(at))) return modifiedAt;
    if (latest === undefined || Date.parse(at) > Date.parse(latest)) latest = at;
  }
  return latest ?? modifiedAt;
}

/** One bad timestamp breaks every later-change decision; the operator needs to read it once. */
function distinct(errors: readonly MappingError[]): MappingError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\u0000${e.rule}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
