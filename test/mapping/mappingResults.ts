import assert from 'node:assert/strict';
import { type ChoiceMaps, type MappingError, type MappingResult } from '../../src/mapping';

export const choices: ChoiceMaps = {
  customerTypes: { Retail: 1, Wholesale: 2 },
  classes: { East: 100, West: 200 },
  terms: { 'Net 30': 1, '2% 10 Net 30': 2, 'Net 60': 4 },
};

export function value<T>(result: MappingResult<T>): T {
  if (!result.ok) assert.fail(`expected a mapped value, got ${JSON.stringify(result.errors)}`);
  return result.value;
}

function errors<T>(result: MappingResult<T>): MappingError[] {
  if (result.ok) assert.fail(`expected mapping errors, got ${JSON.stringify(result.value)}`);
  return result.errors;
}

/** Asserts the result failed with (at least) this field/rule pair. */
export function assertError<T>(result: MappingResult<T>, field: string, rule: string): void {
  const found = errors(result);
  assert.ok(
    found.some((e) => e.field === field && e.rule === rule),
    `expected ${field}/${rule}, got ${JSON.stringify(found.map((e) => `${e.field}/${e.rule}`))}`,
  );
}
