import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders } from 'node:http';
import { type WebhookAuth } from '../../config/deployment';

export type QueryValues = Record<string, unknown>;

/** Azure Functions' header for its function key; accepted for WebhookKey next to the `?code=` Dataverse sends. */
const functionsKeyHeader = 'x-functions-key';

function single(value: unknown): string | undefined {
  // A repeated header or parameter is ambiguous; refuse it rather than guess which copy is the secret.
  return typeof value === 'string' ? value : undefined;
}

/** The secret the caller presented in the place its auth kind says, or undefined when it is not there. */
function presentedSecret(auth: WebhookAuth, headers: IncomingHttpHeaders, query: QueryValues): string | undefined {
  switch (auth.kind) {
    case 'WebhookKey':
      return single(query.code) ?? single(headers[functionsKeyHeader]);
    case 'HttpHeader':
      return auth.headerName ? single(headers[auth.headerName.toLowerCase()]) : undefined;
    case 'HttpQueryString':
      return single(query[auth.headerName ?? 'code']);
    default:
      return undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Constant-time comparison. Both sides are hashed first so the buffers always have the same length: comparing raw
 * strings would return early on a length mismatch and leak the key's length through timing.
 */
function secretsMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export type AuthOutcome = { ok: true } | { ok: false; reason: 'missing' | 'mismatch' | 'expired' | 'misconfigured' };

export function authenticateWebhook(
  auth: WebhookAuth,
  headers: IncomingHttpHeaders,
  query: QueryValues,
  now: number = Date.now(),
): AuthOutcome {
  // An empty configured key would let an empty secret in; treat it as a configuration error, never as "open".
  if (auth.key.length === 0 || auth.previousKey?.key.length === 0) return { ok: false, reason: 'misconfigured' };
  if (auth.kind === 'HttpHeader' && !auth.headerName) return { ok: false, reason: 'misconfigured' };
  const presented = presentedSecret(auth, headers, query);
  if (presented === undefined) return { ok: false, reason: 'missing' };
  // Both comparisons always run, so the answer's timing does not tell which key (if any) was close.
  const current = secretsMatch(presented, auth.key);
  const previous = auth.previousKey ? secretsMatch(presented, auth.previousKey.key) : false;
  if (current) return { ok: true };
  if (previous && now <= auth.previousKey!.untilMs) return { ok: true };
  return { ok: false, reason: previous ? 'expired' : 'mismatch' };
}
