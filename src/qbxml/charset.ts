/**
 * QuickBooks Desktop stores text in Windows-1252 (Western European). A qbXML message holding any other character
 * (Greek, Cyrillic, Chinese, emoji) fails as a whole with 0x80040400, and such a character sent as a numeric
 * reference is stored as `?`. So the connector never sends one: per connection it either transliterates the text
 * to the nearest Windows-1252 text, or refuses the record naming the field and the characters. Pure and
 * deterministic, so workflows and the mapping may use it as well as activities.
 */
import anyAscii from 'any-ascii';

/** The characters Windows-1252 has beyond Latin-1 (its 0x80–0x9F block), so `€`, `™`, `“”` and `Œ` are fine. */
const WINDOWS_1252_BEYOND_LATIN_1 = new Set(
  '\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d\u2022' +
    '\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178',
);

export type OutsideWindows1252Policy = 'transliterate' | 'fail';

function inWindows1252(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  // 0x80–0x9F are C1 controls in Unicode; Windows-1252 uses those bytes for the characters in the set above.
  if (cp < 0x80 || (cp >= 0xa0 && cp <= 0xff)) return true;
  return WINDOWS_1252_BEYOND_LATIN_1.has(ch);
}

/** The distinct characters of `value` QuickBooks cannot store, in order of first appearance. */
export function charactersOutsideWindows1252(value: string): string[] {
  const found: string[] = [];
  for (const ch of value) if (!inWindows1252(ch) && !found.includes(ch)) found.push(ch);
  return found;
}

/**
 * The nearest Windows-1252 text: characters QuickBooks stores stay as they are (`Café` keeps its `é`); every run of
 * other characters is romanised (`Ελληνικά ΑΕ` → `Ellinika AE`, `北京` → `BeiJing`). A character with no
 * romanisation at all becomes `?`, which is what QuickBooks itself would have stored.
 */
export function transliterateToWindows1252(value: string): string {
  let out = '';
  let run = '';
  const flush = (): void => {
    if (run === '') return;
    const romanised = anyAscii(run);
    out += romanised === '' ? '?' : romanised;
    run = '';
  };
  for (const ch of value) {
    if (inWindows1252(ch)) {
      flush();
      out += ch;
    } else {
      run += ch;
    }
  }
  flush();
  return out;
}

export interface Transliteration {
  /** Path of the field in the request, as the builder names it (`billAddress.city`, `lines[0].desc`). */
  field: string;
  from: string;
  to: string;
}

/** Thrown by {@link textForQuickBooks} under the `fail` policy: names the field and the characters. */
export class OutsideWindows1252Error extends Error {
  constructor(
    readonly field: string,
    readonly characters: string[],
  ) {
    super(
      `${field}: QuickBooks cannot store ${characters.map((c) => `"${c}" (U+${codePoint(c)})`).join(', ')}; ` +
        'it keeps text in Windows-1252 (Western European) only',
    );
    this.name = 'OutsideWindows1252Error';
  }
}

function codePoint(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Applies a connection's policy to every string in `value` (a request's fields, any depth): returns the value
 * QuickBooks can take and what was transliterated, or throws {@link OutsideWindows1252Error} under `fail`.
 */
export function textForQuickBooks<T>(
  value: T,
  policy: OutsideWindows1252Policy,
  path = '',
): { value: T; transliterated: Transliteration[] } {
  const transliterated: Transliteration[] = [];
  const walk = (v: unknown, at: string): unknown => {
    if (typeof v === 'string') {
      const outside = charactersOutsideWindows1252(v);
      if (outside.length === 0) return v;
      if (policy === 'fail') throw new OutsideWindows1252Error(at, outside);
      const to = transliterateToWindows1252(v);
      transliterated.push({ field: at, from: v, to });
      return to;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${at}[${i}]`));
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(
        Object.entries(v).map(([key, item]) => [key, walk(item, at === '' ? key : `${at}.${key}`)]),
      );
    }
    return v;
  };
  return { value: walk(value, path) as T, transliterated };
}
