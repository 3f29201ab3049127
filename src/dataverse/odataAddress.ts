import { DataverseKeyValueError } from './errors';

/** Alternate-key values by column, e.g. `{ qbsync_companyfile: 'east', qbsync_qblistid: '80000001-1234567890' }`. */
export type AlternateKey = Record<string, string | number>;

/** Characters Dataverse cannot accept in a key value inside a URL, even percent-encoded (reference §3.3). */
const FORBIDDEN_IN_KEY = /[/<>*%&:\\?+]/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * `accounts(<guid>)` or `accounts(qbsync_companyfile='east',qbsync_qblistid='x')`. String literals double their
 * single quotes as OData requires; the whole segment is then percent-encoded where URLs need it.
 */
export function entityAddress(entitySet: string, idOrKey: string | AlternateKey, connection: string): string {
  if (typeof idOrKey === 'string') {
    if (!isGuid(idOrKey)) {
      throw new DataverseKeyValueError({
        connection,
        status: 0,
        code: '',
        message: `"${idOrKey}" is not a row id (GUID) for ${entitySet}; pass an alternate key object instead`,
      });
    }
    return `${entitySet}(${idOrKey})`;
  }
  const parts = Object.entries(idOrKey);
  if (parts.length === 0) {
    throw new DataverseKeyValueError({
      connection,
      status: 0,
      code: '',
      message: `empty alternate key for ${entitySet}`,
    });
  }
  const rendered = parts.map(([column, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/i.test(column)) {
      throw new DataverseKeyValueError({
        connection,
        status: 0,
        code: '',
        message: `"${column}" is not a column name`,
      });
    }
    if (typeof value === 'number') return `${column}=${value}`;
    if (value === '' || FORBIDDEN_IN_KEY.test(value)) {
      throw new DataverseKeyValueError({
        connection,
        status: 0,
        code: '',
        message: `${entitySet} key ${column}="${value}" cannot be addressed in a Dataverse URL (empty or contains one of / < > * % & : \\ ? +)`,
      });
    }
    // encodeURIComponent leaves `'` alone, so the doubled quotes survive as OData expects.
    return `${column}='${encodeURIComponent(value.replace(/'/g, "''"))}'`;
  });
  return `${entitySet}(${rendered.join(',')})`;
}

/** The GUID at the end of an `OData-EntityId` such as `https://…/api/data/v9.2/accounts(7d5…)`. */
export function idFromEntityUrl(entityUrl: string | undefined): string | undefined {
  if (!entityUrl) return undefined;
  const match = /\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)\s*$/i.exec(entityUrl.trim());
  return match?.[1]?.toLowerCase();
}

export interface QueryOptions {
  select?: readonly string[];
  filter?: string;
  expand?: string;
  orderby?: string;
  top?: number;
}

/** `$select=a,b&$filter=…` with values percent-encoded (spaces as %20, never `+`), option names kept literal. */
export function queryString(options: QueryOptions & { extra?: Record<string, string> }): string {
  const pairs: Array<[string, string]> = [];
  if (options.select && options.select.length > 0) pairs.push(['$select', options.select.join(',')]);
  if (options.filter) pairs.push(['$filter', options.filter]);
  if (options.expand) pairs.push(['$expand', options.expand]);
  if (options.orderby) pairs.push(['$orderby', options.orderby]);
  if (options.top !== undefined) pairs.push(['$top', String(options.top)]);
  for (const [k, v] of Object.entries(options.extra ?? {})) pairs.push([k, v]);
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ',')}`).join('&');
}

/** OData string literal for `$filter` expressions: `'O''Brien'`. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
