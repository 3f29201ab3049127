import https from 'node:https';
import { randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type TestCertificates } from './testCertificates';

/**
 * A small in-test Dataverse Web API: rows with ETags, alternate keys (companyfile + qblistid), conditional
 * upserts, paging with nextLink, `$batch` change sets, bearer-token checks and scripted failures.
 * Deliberately independent of the client code it tests.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Answer only after this long (a slow Dataverse), unless the client went away first. */
  delayMs?: number;
}

export interface FakeDataverse {
  webApiUrl: string;
  requests: RecordedRequest[];
  tables: Map<string, Map<string, Record<string, unknown>>>;
  /** Tokens the server accepts. */
  acceptedTokens: Set<string>;
  /** Responses served before normal handling, first in first out. A function may decide per request. */
  script: Array<ScriptedResponse | ((req: RecordedRequest) => ScriptedResponse | undefined)>;
  /** Change a row behind the client's back (bumps its ETag). */
  touch(entitySet: string, id: string, patch: Record<string, unknown>): void;
  close(): Promise<void>;
}

const KEYED_SETS = new Set(['accounts', 'contacts', 'products']);
const BASE_PATH = '/api/data/v9.2';

export async function startFakeDataverse(certs: TestCertificates): Promise<FakeDataverse> {
  const tables = new Map<string, Map<string, Record<string, unknown>>>();
  const requests: RecordedRequest[] = [];
  const acceptedTokens = new Set<string>();
  const script: FakeDataverse['script'] = [];
  let version = 1000;
  let origin = '';

  const table = (set: string): Map<string, Record<string, unknown>> => {
    let t = tables.get(set);
    if (!t) tables.set(set, (t = new Map()));
    return t;
  };
  const pk = (set: string): string => `${set.replace(/s$/, '')}id`;
  const stamp = (row: Record<string, unknown>): void => {
    row['@odata.etag'] = `W/"${++version}"`;
  };

  function findByKey(set: string, key: Record<string, string>): [string, Record<string, unknown>] | undefined {
    for (const [id, row] of table(set)) {
      if (Object.entries(key).every(([k, v]) => row[k] === v)) return [id, row];
    }
    return undefined;
  }

  function parseAddress(segment: string): { set: string; id?: string; key?: Record<string, string> } | undefined {
    const m = /^([a-z_]+)(?:\((.*)\))?$/i.exec(segment);
    if (!m || !m[1]) return undefined;
    const set = m[1];
    const inner = m[2];
    if (inner === undefined) return { set };
    if (/^[0-9a-f-]{36}$/i.test(inner)) return { set, id: inner.toLowerCase() };
    const key: Record<string, string> = {};
    const re = /([a-z_]+)='((?:[^']|'')*)'/gi;
    let km: RegExpExecArray | null;
    while ((km = re.exec(inner))) key[km[1] ?? ''] = (km[2] ?? '').replace(/''/g, "'");
    return { set, key };
  }

  interface Reply {
    status: number;
    headers: Record<string, string>;
    body: string;
  }
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
    status,
    headers: { 'content-type': 'application/json; odata.metadata=minimal', 'odata-version': '4.0', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
  const err = (status: number, message: string, code = ''): Reply => json(status, { error: { code, message } });

  function handle(method: string, rawUrl: string, headers: Record<string, string>, body: string): Reply {
    const url = new URL(rawUrl, origin);
    if (!url.pathname.startsWith(`${BASE_PATH}/`)) return err(404, 'no such path');
    const segment = decodeURIComponent(url.pathname.slice(BASE_PATH.length + 1));
    if (segment === '$batch' && method === 'POST') return batch(headers, body);
    const addr = parseAddress(segment);
    if (!addr) return err(400, `cannot parse ${segment}`);
    const prefer = headers.prefer ?? '';
    const wantRow = /return=representation/.test(prefer);
    const entityUrl = (id: string): string => `${origin}${BASE_PATH}/${addr.set}(${id})`;
    const t = table(addr.set);

    if (method === 'GET' && !addr.id && !addr.key) {
      const rows = [...t.values()].sort((a, b) => String(a[pk(addr.set)]).localeCompare(String(b[pk(addr.set)])));
      const size = Number(/odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? 5000);
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const page = rows.slice(skip, skip + size);
      const out: Record<string, unknown> = {
        '@odata.context': `${origin}${BASE_PATH}/$metadata#${addr.set}`,
        value: page,
      };
      if (skip + size < rows.length) {
        const next = new URL(url.href);
        next.searchParams.set('$skiptoken', String(skip + size));
        out['@odata.nextLink'] = next.href;
      }
      return json(200, out, { 'preference-applied': `odata.maxpagesize=${size}` });
    }

    const found = addr.id
      ? ((): [string, Record<string, unknown>] | undefined => {
          const r = t.get(addr.id ?? '');
          return r ? [addr.id ?? '', r] : undefined;
        })()
      : addr.key
        ? findByKey(addr.set, addr.key)
        : undefined;

    if (method === 'GET') {
      if (!found) return err(404, `${addr.set.replace(/s$/, '')} With Id = ${addr.id ?? '?'} Does Not Exist`);
      return json(200, found[1]);
    }
    if (method === 'DELETE') {
      if (!found) return err(404, 'Does Not Exist');
      t.delete(found[0]);
      return json(204, undefined);
    }
    const payload = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (method === 'POST' && !addr.id && !addr.key) {
      if (KEYED_SETS.has(addr.set) && payload.qbsync_qblistid !== undefined) {
        const dup = findByKey(addr.set, {
          qbsync_companyfile: String(payload.qbsync_companyfile),
          qbsync_qblistid: String(payload.qbsync_qblistid),
        });
        if (dup) return err(412, 'A record with matching key values already exists.', '0x80060892');
      }
      const id = randomUUID();
      const row: Record<string, unknown> = { ...payload, [pk(addr.set)]: id };
      stamp(row);
      t.set(id, row);
      return wantRow
        ? json(201, row, { 'odata-entityid': entityUrl(id) })
        : json(204, undefined, { 'odata-entityid': entityUrl(id) });
    }
    if (method === 'PATCH') {
      const ifMatch = headers['if-match'];
      const ifNoneMatch = headers['if-none-match'];
      if (found) {
        if (ifNoneMatch === '*') return err(412, 'A record with matching key values already exists.');
        if (ifMatch && ifMatch !== '*' && ifMatch !== found[1]['@odata.etag']) {
          return err(412, "The version of the existing record doesn't match the RowVersion property provided.");
        }
        Object.assign(found[1], payload);
        stamp(found[1]);
        return wantRow
          ? json(200, found[1], { 'odata-entityid': entityUrl(found[0]) })
          : json(204, undefined, { 'odata-entityid': entityUrl(found[0]) });
      }
      if (ifMatch) return err(404, `${addr.set.replace(/s$/, '')} With Id = ${addr.id ?? ''} Does Not Exist`);
      const id = addr.id ?? randomUUID();
      const row: Record<string, unknown> = { ...(addr.key ?? {}), ...payload, [pk(addr.set)]: id };
      stamp(row);
      t.set(id, row);
      return wantRow
        ? json(201, row, { 'odata-entityid': entityUrl(id) })
        : json(204, undefined, { 'odata-entityid': entityUrl(id) });
    }
    return err(405, `${method} not supported`);
  }

  /** Minimal `$batch`: one optional change set (atomic, rolled back on failure) plus standalone GETs. */
  function batch(headers: Record<string, string>, body: string): Reply {
    const boundary = /boundary=([^;\s]+)/.exec(headers['content-type'] ?? '')?.[1];
    if (!boundary) return err(400, 'no boundary');
    const partsOf = (text: string, b: string): string[] =>
      text
        .split(`--${b}`)
        .slice(1)
        .filter((p) => !p.startsWith('--'))
        .map((p) => p.replace(/^\r\n/, ''));
    const split = (block: string): [string, string] => {
      const i = block.indexOf('\r\n\r\n');
      return i < 0 ? [block, ''] : [block.slice(0, i), block.slice(i + 4)];
    };
    const runOne = (block: string): { reply: Reply; contentId?: string } => {
      const [partHead, http] = split(block);
      const contentId = /Content-ID:\s*(\S+)/i.exec(partHead)?.[1];
      const [reqHead, reqBody] = split(http);
      const lines = reqHead.split('\r\n');
      const [m, u] = (lines[0] ?? '').split(' ');
      const h: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) h[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      return { reply: handle(m ?? '', u ?? '', h, reqBody.replace(/\r\n$/, '')), ...(contentId ? { contentId } : {}) };
    };
    const renderHttp = (r: Reply, contentId?: string): string => {
      const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
      if (contentId) lines.push(`Content-ID: ${contentId}`);
      lines.push('', `HTTP/1.1 ${r.status} ${r.status < 300 ? 'OK' : 'Error'}`);
      for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
      lines.push('', r.body);
      return lines.join('\r\n');
    };
    const outB = `batchresponse_${randomUUID()}`;
    const out: string[] = [];
    // As Dataverse: the first failure ends the batch, which then answers with its status, unless continue-on-error.
    const continueOnError = /odata\.continue-on-error/i.test(headers.prefer ?? '');
    let stoppedWith: number | undefined;
    for (const part of partsOf(body, boundary)) {
      if (stoppedWith !== undefined) break;
      const [head, inner] = split(part);
      const cs = /boundary=([^;\s]+)/.exec(head)?.[1];
      if (cs) {
        const snapshot = new Map([...tables].map(([k, v]) => [k, new Map([...v].map(([id, r]) => [id, { ...r }]))]));
        const results = partsOf(inner, cs).map(runOne);
        const failed = results.find((r) => r.reply.status >= 400);
        if (failed) {
          tables.clear();
          for (const [k, v] of snapshot) tables.set(k, v);
          out.push(`--${outB}`, renderHttp(failed.reply, failed.contentId));
          if (!continueOnError) stoppedWith = failed.reply.status;
        } else {
          const csB = `changesetresponse_${randomUUID()}`;
          out.push(`--${outB}`, `Content-Type: multipart/mixed; boundary=${csB}`, '');
          for (const r of results) out.push(`--${csB}`, renderHttp(r.reply, r.contentId));
          out.push(`--${csB}--`);
        }
      } else {
        const r = runOne(part);
        out.push(`--${outB}`, renderHttp(r.reply, r.contentId));
        if (r.reply.status >= 400 && !continueOnError) stoppedWith = r.reply.status;
      }
    }
    out.push(`--${outB}--`, '');
    return {
      status: stoppedWith ?? 200,
      headers: { 'content-type': `multipart/mixed; boundary=${outB}` },
      body: out.join('\r\n'),
    };
  }

  const server = https.createServer(
    { key: certs.serverKeyPem, cert: certs.serverCertPem },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        requests.push(recorded);
        const send = (r: Reply): void => {
          res.writeHead(r.status, r.headers);
          res.end(r.body);
        };
        const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
        if (!token || !acceptedTokens.has(token)) {
          return send(err(401, 'The user is not authenticated.', '0x8004a101'));
        }
        const next = script[0];
        const scripted = typeof next === 'function' ? next(recorded) : next;
        if (next !== undefined && typeof next !== 'function') script.shift();
        if (scripted) {
          const reply = json(scripted.status, scripted.body, scripted.headers ?? {});
          if (!scripted.delayMs) return send(reply);
          const timer = setTimeout(() => send(reply), scripted.delayMs);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        try {
          send(handle(recorded.method, recorded.url, headers, recorded.body));
        } catch (e) {
          send(err(500, e instanceof Error ? e.message : String(e)));
        }
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    webApiUrl: `${origin}${BASE_PATH}`,
    requests,
    tables,
    acceptedTokens,
    script,
    touch(set, id, patch) {
      const row = table(set).get(id);
      if (!row) throw new Error(`no ${set} row ${id}`);
      Object.assign(row, patch);
      stamp(row);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
