import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

/** Workflow code imports the mapping, so it may reach only these modules (and only types from the first two). */
const TYPE_ONLY = new Set(['../qbxml/requests', '../dataverse/entities']);
const VALUE_ALLOWED = new Set(['decimal.js']);

/** `import type {…}`, or braces whose every specifier is marked `type`. */
function typeOnly(statement: string, typeKeyword: string | undefined): boolean {
  if (typeKeyword !== undefined) return true;
  const braces = /\{([^}]*)\}/s.exec(statement)?.[1];
  if (braces === undefined) return false;
  const specifiers = braces
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return specifiers.every((s) => s.startsWith('type '));
}

const dir = join(__dirname, '..', '..', 'src', 'mapping');

describe('mapping purity', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    it(`${file} imports nothing impure`, () => {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const m of source.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
        const [statement, , typeKeyword, target] = m;
        if (target === undefined || target.startsWith('./')) continue;
        if (TYPE_ONLY.has(target)) {
          assert.ok(typeOnly(statement, typeKeyword), `${file}: only types may come from ${target}`);
        } else {
          assert.ok(VALUE_ALLOWED.has(target), `${file} imports ${target}`);
        }
      }
      assert.doesNotMatch(
        source,
        /Date\.now|new Date\(\)|Math\.random|process\./,
        `${file} uses the clock, randomness or process`,
      );
    });
  }
});
