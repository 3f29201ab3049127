/**
 * The outcome of every mapping: a value, or the list of reasons the record cannot be mapped. Mapping never throws
 * on bad data, because a record that cannot be mapped is an expected business outcome that the record's workflow
 * records (and an operator fixes), not a crash that Temporal would retry forever.
 */

export type MappingRule =
  | 'required'
  | 'max-length'
  | 'forbidden-character'
  | 'decimal'
  | 'precision'
  | 'positive'
  | 'unmapped-choice'
  | 'ambiguous-choice'
  | 'unmapped-product'
  | 'unsupported'
  | 'timestamp'
  | 'key-unsafe';

export interface MappingError {
  /** The source field (QuickBooks property path or Dataverse column) that broke the rule. */
  field: string;
  rule: MappingRule;
  message: string;
}

export type MappingResult<T> = { ok: true; value: T } | { ok: false; errors: MappingError[] };

/**
 * Collects every problem of a record rather than stopping at the first, so one look at a failed sync shows the
 * operator everything to fix.
 */
export class Issues {
  readonly errors: MappingError[] = [];

  add(field: string, rule: MappingRule, message: string): void {
    this.errors.push({ field, rule, message });
  }

  /** Keeps the errors of a nested mapping under this collector. */
  absorb<T>(result: MappingResult<T>): T | undefined {
    if (result.ok) return result.value;
    this.errors.push(...result.errors);
    return undefined;
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  result<T>(value: T): MappingResult<T> {
    return this.failed ? { ok: false, errors: [...this.errors] } : { ok: true, value };
  }
}
