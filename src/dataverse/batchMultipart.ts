import { randomUUID } from 'node:crypto';

/**
 * The `$batch` wire format (reference §4.3): a `multipart/mixed` body whose parts are raw HTTP requests, writes
 * optionally wrapped in one change set so they commit or roll back together. Responses mirror the structure with
 * `batchresponse_…` / `changesetresponse_…` boundaries.
 */

export type BatchMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface BatchRequestPart {
  method: BatchMethod;
  /** Absolute URL, or a `$<Content-ID>` reference to an earlier part of the same change set. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  contentId?: string;
}

export interface EncodedBatch {
  boundary: string;
  contentType: string;
  body: string;
}

const CRLF = '\r\n';

export function encodeBatch(changeSet: BatchRequestPart[], standalone: BatchRequestPart[]): EncodedBatch {
  const boundary = `batch_${randomUUID()}`;
  const lines: string[] = [];
  if (changeSet.length > 0) {
    const cs = `changeset_${randomUUID()}`;
    lines.push(`--${boundary}`, `Content-Type: multipart/mixed; boundary=${cs}`, '');
    for (const part of changeSet) lines.push(`--${cs}`, ...encodePart(part));
    lines.push(`--${cs}--`, '');
  }
  for (const part of standalone) lines.push(`--${boundary}`, ...encodePart(part));
  lines.push(`--${boundary}--`, '');
  return { boundary, contentType: `multipart/mixed; boundary=${boundary}`, body: lines.join(CRLF) };
}

function encodePart(part: BatchRequestPart): string[] {
  const out = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (part.contentId) out.push(`Content-ID: ${part.contentId}`);
  out.push('', `${part.method} ${part.url} HTTP/1.1`);
  for (const [k, v] of Object.entries(part.headers)) out.push(`${k}: ${v}`);
  out.push('');
  out.push(part.body ?? '');
  return out;
}

export interface BatchResponsePart {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  bodyText: string;
  contentId: string | undefined;
  /** True when the part came from inside a change-set response. */
  inChangeSet: boolean;
}

export function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary=("?)([^";,]+)\1/i.exec(contentType ?? '');
  return m?.[2]?.trim();
}

/** Flattens a batch response (change sets included) into its embedded HTTP responses, in wire order. */
export function decodeBatchResponse(text: string, contentType: string | undefined): BatchResponsePart[] {
  const boundary = boundaryOf(contentType) ?? sniffBoundary(text);
  if (!boundary) throw new Error('batch response has no multipart boundary');
  return decodeMultipart(text, boundary, false);
}

function decodeMultipart(text: string, boundary: string, inChangeSet: boolean): BatchResponsePart[] {
  const results: BatchResponsePart[] = [];
  const segments = text.split(`--${boundary}`);
  for (const raw of segments.slice(1)) {
    if (raw.startsWith('--')) break;
    const segment = raw.replace(/^\r?\n/, '');
    const { headers, body } = splitHead(segment);
    const partType = headers['content-type'] ?? '';
    if (/^multipart\/mixed/i.test(partType)) {
      const inner = boundaryOf(partType);
      if (!inner) throw new Error('change-set response part has no boundary');
      results.push(...decodeMultipart(body, inner, true));
      continue;
    }
    const http = splitHead(body);
    const statusLine = http.firstLine;
    const m = /^HTTP\/\d\.\d\s+(\d{3})\s*(.*)$/.exec(statusLine.trim());
    if (!m) throw new Error(`batch response part without an HTTP status line: ${statusLine.slice(0, 80)}`);
    results.push({
      status: Number(m[1]),
      statusText: m[2] ?? '',
      headers: http.headers,
      bodyText: http.body.replace(/\r?\n$/, ''),
      contentId: headers['content-id'] ?? http.headers['content-id'],
      inChangeSet,
    });
  }
  return results;
}

/**
 * Splits `headers CRLF CRLF body`. When the block starts with a request/status line it is returned separately.
 * Tolerates bare LF (published samples use it) and `Name:value` without a space.
 */
function splitHead(block: string): { firstLine: string; headers: Record<string, string>; body: string } {
  const sep = /\r?\n\r?\n/.exec(block);
  const head = sep ? block.slice(0, sep.index) : block;
  const body = sep ? block.slice(sep.index + sep[0].length) : '';
  const lines = head.split(/\r?\n/);
  let firstLine = '';
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (/^HTTP\/\d/.test(line) || colon < 0) {
      if (!firstLine) firstLine = line;
      continue;
    }
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { firstLine, headers, body };
}

function sniffBoundary(text: string): string | undefined {
  return /^--(\S+)/.exec(text.trimStart())?.[1];
}
