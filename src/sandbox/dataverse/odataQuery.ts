import { badRequest, ErrorCodes } from './dataverseError';
import { isGuid } from './deterministicId';
import { type ColumnDefinition, type TableDefinition } from './schema';
import { columnForProperty, comparableValue, type Row } from './row';

/**
 * `$filter`, `$orderby`, `$select` and `$expand` as Dataverse accepts them for the tables the connector reads.
 * String comparisons ignore case because Dataverse's SQL collation does.
 */

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'datetime'; value: number; text: string }
  | { kind: 'guid'; value: string };

type Operand = { kind: 'property'; column: ColumnDefinition; name: string } | { kind: 'literal'; literal: Literal };

type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
const COMPARISONS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const STRING_FUNCTIONS = new Set<string>(['contains', 'startswith', 'endswith']);

export type FilterExpression =
  | { kind: 'and' | 'or'; left: FilterExpression; right: FilterExpression }
  | { kind: 'not'; operand: FilterExpression }
  | { kind: 'compare'; operator: ComparisonOperator; left: Operand; right: Operand }
  | { kind: 'function'; name: string; property: Operand; argument: Operand };

type Token =
  { kind: 'punct'; value: '(' | ')' | ',' } | { kind: 'word'; value: string } | { kind: 'literal'; literal: Literal };

function queryError(message: string): Error {
  return badRequest(ErrorCodes.invalidProperty, message);
}

const GUID_AT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
const DATETIME_AT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;
const NUMBER_AT = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?/;
const WORD_AT = /^[A-Za-z_][\w.]*/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', value: ch });
      i += 1;
      continue;
    }
    if (ch === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw queryError(`Syntax error: unterminated string literal in '${text}'.`);
        const c = text.charAt(i);
        if (c === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += c;
        i += 1;
      }
      tokens.push({ kind: 'literal', literal: { kind: 'string', value } });
      continue;
    }
    const rest = text.slice(i);
    const guid = GUID_AT.exec(rest);
    if (guid !== null) {
      tokens.push({ kind: 'literal', literal: { kind: 'guid', value: guid[0].toLowerCase() } });
      i += guid[0].length;
      continue;
    }
    const datetime = DATETIME_AT.exec(rest);
    if (datetime !== null && datetime[0].length >= 10) {
      const parsed = Date.parse(datetime[0].length === 10 ? `${datetime[0]}T00:00:00Z` : datetime[0]);
      if (Number.isNaN(parsed)) throw queryError(`Unrecognized 'Edm.DateTimeOffset' literal '${datetime[0]}'.`);
      tokens.push({ kind: 'literal', literal: { kind: 'datetime', value: parsed, text: datetime[0] } });
      i += datetime[0].length;
      continue;
    }
    const number = NUMBER_AT.exec(rest);
    if (number !== null) {
      tokens.push({
        kind: 'literal',
        literal: { kind: 'number', value: Number(number[0].replace(/[mMdDfFlL]$/, '')) },
      });
      i += number[0].length;
      continue;
    }
    const word = WORD_AT.exec(rest);
    if (word !== null) {
      const lower = word[0].toLowerCase();
      if (lower === 'true' || lower === 'false')
        tokens.push({ kind: 'literal', literal: { kind: 'boolean', value: lower === 'true' } });
      else if (lower === 'null') tokens.push({ kind: 'literal', literal: { kind: 'null' } });
      else tokens.push({ kind: 'word', value: word[0] });
      i += word[0].length;
      continue;
    }
    throw queryError(`Syntax error at position ${i} in '${text}'.`);
  }
  return tokens;
}

const NUMERIC = new Set(['integer', 'decimal', 'money', 'choice']);

function edmType(column: ColumnDefinition): string {
  switch (column.type) {
    case 'string':
    case 'memo':
      return 'Edm.String';
    case 'integer':
    case 'choice':
      return 'Edm.Int32';
    case 'decimal':
    case 'money':
      return 'Edm.Decimal';
    case 'boolean':
      return 'Edm.Boolean';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    default:
      return 'Edm.Guid';
  }
}

function literalEdmType(literal: Literal): string {
  switch (literal.kind) {
    case 'string':
      return 'Edm.String';
    case 'number':
      return Number.isInteger(literal.value) ? 'Edm.Int32' : 'Edm.Decimal';
    case 'boolean':
      return 'Edm.Boolean';
    case 'datetime':
      return 'Edm.DateTimeOffset';
    case 'guid':
      return 'Edm.Guid';
    default:
      return 'null';
  }
}

function compatible(column: ColumnDefinition, literal: Literal): boolean {
  switch (literal.kind) {
    case 'null':
      return true;
    case 'string':
      return (
        column.type === 'string' ||
        column.type === 'memo' ||
        ((column.type === 'lookup' || column.type === 'uniqueidentifier') && isGuid(literal.value))
      );
    case 'number':
      return NUMERIC.has(column.type);
    case 'boolean':
      return column.type === 'boolean';
    case 'datetime':
      return column.type === 'datetime';
    case 'guid':
      return column.type === 'lookup' || column.type === 'uniqueidentifier';
  }
}

class FilterParser {
  private position = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly table: TableDefinition,
  ) {}

  parse(): FilterExpression {
    const expression = this.parseOr();
    if (this.position < this.tokens.length)
      throw queryError('Syntax error: unexpected content after the end of the $filter expression.');
    return expression;
  }

  private peekWord(): string | undefined {
    const token = this.tokens[this.position];
    return token?.kind === 'word' ? token.value.toLowerCase() : undefined;
  }

  private expectPunct(value: '(' | ')' | ','): void {
    const token = this.tokens[this.position];
    if (token?.kind !== 'punct' || token.value !== value)
      throw queryError(`Syntax error: '${value}' expected in $filter.`);
    this.position += 1;
  }

  private parseOr(): FilterExpression {
    let left = this.parseAnd();
    while (this.peekWord() === 'or') {
      this.position += 1;
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterExpression {
    let left = this.parseUnary();
    while (this.peekWord() === 'and') {
      this.position += 1;
      left = { kind: 'and', left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterExpression {
    if (this.peekWord() === 'not') {
      this.position += 1;
      return { kind: 'not', operand: this.parseUnary() };
    }
    const token = this.tokens[this.position];
    if (token?.kind === 'punct' && token.value === '(') {
      this.position += 1;
      const inner = this.parseOr();
      this.expectPunct(')');
      return inner;
    }
    const word = this.peekWord();
    const next = this.tokens[this.position + 1];
    if (word !== undefined && STRING_FUNCTIONS.has(word) && next?.kind === 'punct' && next.value === '(') {
      this.position += 2;
      const property = this.parseOperand();
      this.expectPunct(',');
      const argument = this.parseOperand();
      this.expectPunct(')');
      if (property.kind !== 'property' || argument.kind !== 'literal' || argument.literal.kind !== 'string') {
        throw queryError(`The function '${word}' expects a property and a string literal.`);
      }
      if (property.column.type !== 'string' && property.column.type !== 'memo') {
        throw queryError(`No function signature for the function with name '${word}' matches the specified arguments.`);
      }
      return { kind: 'function', name: word, property, argument };
    }
    const left = this.parseOperand();
    const operator = this.peekWord();
    if (operator === undefined || !COMPARISONS.has(operator))
      throw queryError('Syntax error: a comparison operator was expected in $filter.');
    this.position += 1;
    const right = this.parseOperand();
    this.checkTypes(left, right, operator);
    return { kind: 'compare', operator: operator as ComparisonOperator, left, right };
  }

  private checkTypes(left: Operand, right: Operand, operator: string): void {
    const pairs: Array<[Operand, Operand]> = [
      [left, right],
      [right, left],
    ];
    for (const [a, b] of pairs) {
      if (a.kind === 'property' && b.kind === 'literal' && !compatible(a.column, b.literal)) {
        throw queryError(
          `A binary operator with incompatible types was detected. Found operand types '${edmType(a.column)}' and '${literalEdmType(b.literal)}' for operator kind '${operator}'.`,
        );
      }
    }
  }

  private parseOperand(): Operand {
    const token = this.tokens[this.position];
    if (token === undefined) throw queryError('Syntax error: unexpected end of $filter.');
    this.position += 1;
    if (token.kind === 'literal') return { kind: 'literal', literal: token.literal };
    if (token.kind === 'word') {
      const column = columnForProperty(this.table, token.value);
      if (column === undefined) {
        throw queryError(
          `Could not find a property named '${token.value}' on type 'Microsoft.Dynamics.CRM.${this.table.logicalName}'.`,
        );
      }
      return { kind: 'property', column, name: token.value };
    }
    throw queryError(`Syntax error: unexpected '${token.value}' in $filter.`);
  }
}

export function parseFilter(text: string, table: TableDefinition): FilterExpression {
  return new FilterParser(tokenize(text), table).parse();
}

type Comparable = string | number | boolean | null;

function operandValue(operand: Operand, row: Row): { value: Comparable; column?: ColumnDefinition } {
  if (operand.kind === 'property') return { value: comparableValue(row, operand.column), column: operand.column };
  const literal = operand.literal;
  switch (literal.kind) {
    case 'null':
      return { value: null };
    case 'datetime':
      return { value: literal.value };
    default:
      return { value: literal.value };
  }
}

/** Normalises both sides so dates compare as instants, GUIDs and strings without regard to case. */
function normalise(value: Comparable, column: ColumnDefinition | undefined): Comparable {
  if (value === null) return null;
  if (column?.type === 'datetime' && typeof value === 'string') return Date.parse(value);
  if (typeof value === 'string') return value.toLowerCase();
  return value;
}

function compareValues(a: Comparable, b: Comparable): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Three-valued logic as SQL has it: a comparison with a null column is unknown, and `not unknown` stays unknown. */
function evaluate(expression: FilterExpression, row: Row): boolean | null {
  switch (expression.kind) {
    case 'and': {
      const left = evaluate(expression.left, row);
      const right = evaluate(expression.right, row);
      if (left === false || right === false) return false;
      return left === null || right === null ? null : true;
    }
    case 'or': {
      const left = evaluate(expression.left, row);
      const right = evaluate(expression.right, row);
      if (left === true || right === true) return true;
      return left === null || right === null ? null : false;
    }
    case 'not': {
      const inner = evaluate(expression.operand, row);
      return inner === null ? null : !inner;
    }
    case 'function': {
      const value = operandValue(expression.property, row).value;
      const argument =
        expression.argument.kind === 'literal' && expression.argument.literal.kind === 'string'
          ? expression.argument.literal.value.toLowerCase()
          : '';
      if (typeof value !== 'string') return null;
      const haystack = value.toLowerCase();
      if (expression.name === 'contains') return haystack.includes(argument);
      if (expression.name === 'startswith') return haystack.startsWith(argument);
      return haystack.endsWith(argument);
    }
    case 'compare': {
      const left = operandValue(expression.left, row);
      const right = operandValue(expression.right, row);
      const column = left.column ?? right.column;
      const a = normalise(left.value, column);
      const b = normalise(right.value, column);
      const literalNull = (operand: Operand): boolean => operand.kind === 'literal' && operand.literal.kind === 'null';
      if (literalNull(expression.left) || literalNull(expression.right)) {
        if (expression.operator === 'eq') return a === b;
        if (expression.operator === 'ne') return a !== b;
        return null;
      }
      if (a === null || b === null) return null;
      const order = compareValues(a, b);
      switch (expression.operator) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order > 0;
        case 'ge':
          return order >= 0;
        case 'lt':
          return order < 0;
        case 'le':
          return order <= 0;
      }
    }
  }
}

export function evaluateFilter(expression: FilterExpression, row: Row): boolean {
  return evaluate(expression, row) === true;
}

export interface OrderClause {
  column: ColumnDefinition;
  descending: boolean;
}

export function parseOrderBy(text: string, table: TableDefinition): OrderClause[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [name = '', direction = 'asc', ...extra] = part.split(/\s+/);
      const column = columnForProperty(table, name);
      if (column === undefined)
        throw queryError(
          `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${table.logicalName}'.`,
        );
      const dir = direction.toLowerCase();
      if (extra.length > 0 || (dir !== 'asc' && dir !== 'desc'))
        throw queryError(`Syntax error in $orderby at '${part}'.`);
      return { column, descending: dir === 'desc' };
    });
}

/** Sort value used both for ordering and for the paging cookie. */
export function sortValue(row: Row, column: ColumnDefinition): Comparable {
  return normalise(comparableValue(row, column), column);
}

/** Nulls sort first ascending (SQL Server's order). */
export function compareSortValues(a: Comparable, b: Comparable): number {
  if (a === null && b === null) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return compareValues(a, b);
}

export function parseSelect(text: string, table: TableDefinition): ColumnDefinition[] {
  return text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0)
    .map((name) => {
      const column = columnForProperty(table, name);
      if (column === undefined)
        throw queryError(
          `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${table.logicalName}'.`,
        );
      return column;
    });
}

export interface ExpandClause {
  navigation: string;
  options: Map<string, string>;
}

/** Splits on a separator outside parentheses and quotes: `a($select=x,y),b` → [`a($select=x,y)`, `b`]. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth += 1;
    if (!quoted && ch === ')') depth -= 1;
    if (!quoted && depth === 0 && ch === separator) {
      parts.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (depth !== 0 || quoted) throw queryError(`Syntax error: unbalanced parentheses or quotes in '${text}'.`);
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseExpand(text: string): ExpandClause[] {
  return splitTopLevel(text, ',').map((part) => {
    const open = part.indexOf('(');
    if (open < 0) return { navigation: part, options: new Map() };
    if (!part.endsWith(')')) throw queryError(`Syntax error in $expand at '${part}'.`);
    const options = new Map<string, string>();
    for (const option of splitTopLevel(part.slice(open + 1, -1), ';')) {
      const eq = option.indexOf('=');
      if (eq < 0) throw queryError(`Syntax error in $expand option '${option}'.`);
      options.set(option.slice(0, eq).trim().toLowerCase(), option.slice(eq + 1));
    }
    return { navigation: part.slice(0, open).trim(), options };
  });
}

export { splitTopLevel };
