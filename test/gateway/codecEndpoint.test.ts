import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { EncryptedPayloadCodec } from '../../src/codec/payloadCodec';
import { createGatewayApp } from '../../src/gateway/app';
import { codecRouter, uiOriginsFromEnv } from '../../src/gateway/codec/codecRouter';

const bearerToken = randomBytes(32).toString('base64url');
const uiPathToken = randomBytes(32).toString('base64url');
const codec = new EncryptedPayloadCodec(new PayloadKeyRing('k1', [['k1', randomBytes(32)]]));
const uiOrigin = 'http://localhost:8233';
let server: Server;
let base: string;

before(async () => {
  const app = createGatewayApp({
    qbwc: express.Router(),
    codec: codecRouter({
      codec,
      access: { bearerToken, uiPathToken },
      uiOrigins: uiOriginsFromEnv({}),
      log: pino({ level: 'silent' }),
      maxBodyBytes: 64 * 1024,
    }),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

async function encryptedBody(value: unknown): Promise<string> {
  const encoded = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  return JSON.stringify({ payloads: encoded.map(toJson) });
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body,
  });
}

const auth = { authorization: `Bearer ${bearerToken}` };

describe('codec endpoint', () => {
  it('decodes with the bearer token, and encodes what it decodes', async () => {
    const response = await post('/codec/decode', await encryptedBody({ customer: 'Kiri Private' }), auth);
    assert.equal(response.status, 200);
    const { payloads } = (await response.json()) as { payloads: JsonPayload[] };
    assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(payloads[0]!)), { customer: 'Kiri Private' });

    const encoded = await post('/codec/encode', JSON.stringify({ payloads }), auth);
    assert.equal(encoded.status, 200);
    const text = await encoded.text();
    assert.doesNotMatch(text, /Kiri/);
    const [again] = await codec.decode((JSON.parse(text) as { payloads: JsonPayload[] }).payloads.map(fromJson));
    assert.deepEqual(defaultPayloadConverter.fromPayload(again!), { customer: 'Kiri Private' });
  });

  it('answers 401 without a token, with a wrong one and with another scheme, and reveals nothing', async () => {
    const body = await encryptedBody({ customer: 'Kiri Private' });
    for (const headers of <Record<string, string>[]>[
      {},
      { authorization: `Bearer ${bearerToken}x` },
      { authorization: `Bearer ${uiPathToken}` },
      { authorization: `Basic ${bearerToken}` },
    ]) {
      const response = await post('/codec/decode', body, headers);
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.doesNotMatch(await response.text(), /Kiri/);
    }
  });

  it('serves the Web UI through the path token, and refuses a wrong path token', async () => {
    const body = await encryptedBody({ customer: 'Kiri Private' });
    const ok = await post(`/codec/ui/${uiPathToken}/decode`, body, { origin: uiOrigin });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), uiOrigin);
    const [decoded] = ((await ok.json()) as { payloads: JsonPayload[] }).payloads.map(fromJson);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { customer: 'Kiri Private' });
    assert.equal((await post(`/codec/ui/${bearerToken}/decode`, body)).status, 401);
    assert.equal((await post(`/codec/ui/${uiPathToken.slice(1)}/decode`, body)).status, 401);
  });

  it('allows CORS only for the UI origin, with a preflight for the UI headers and credentials', async () => {
    for (const origin of ['http://localhost:8233', 'http://127.0.0.1:8233']) {
      const preflight = await fetch(`${base}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const header of ['authorization', 'content-type', 'x-namespace']) assert.ok(allowed.includes(header));
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
    }

    const evil = 'https://evil.example';
    const preflight = await fetch(`${base}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: evil, 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const response = await post('/codec/decode', await encryptedBody('x'), { ...auth, origin: evil });
    assert.equal(response.headers.get('access-control-allow-origin'), null);

    const fromUi = await post('/codec/decode', await encryptedBody('x'), { ...auth, origin: uiOrigin });
    assert.equal(fromUi.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(fromUi.headers.get('vary') ?? '', /Origin/i);
  });

  it('answers 400 with a clear message for malformed JSON or the wrong shape', async () => {
    const malformed = await post('/codec/decode', '{"payloads": [', auth);
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: string }).error, /not valid JSON/);

    const wrongShape = await post('/codec/decode', JSON.stringify({ payload: [] }), auth);
    assert.equal(wrongShape.status, 400);
    assert.match(((await wrongShape.json()) as { error: string }).error, /payloads/);

    const notBase64 = await post('/codec/decode', JSON.stringify({ payloads: [{ data: '***' }] }), auth);
    assert.equal(notBase64.status, 400);
    assert.match(((await notBase64.json()) as { error: string }).error, /base64/);
  });

  it('answers 413 for a body over the limit', async () => {
    const huge = JSON.stringify({ payloads: [{ metadata: {}, data: Buffer.alloc(100 * 1024).toString('base64') }] });
    const response = await post('/codec/decode', huge, auth);
    assert.equal(response.status, 413);
    assert.match(((await response.json()) as { error: string }).error, /larger than 65536 bytes/);
  });

  it('answers 422 naming the unknown key id when a payload was written under a key it does not have', async () => {
    const other = new EncryptedPayloadCodec(new PayloadKeyRing('k9', [['k9', randomBytes(32)]]));
    const [foreign] = await other.encode([defaultPayloadConverter.toPayload('x')]);
    const response = await post('/codec/decode', JSON.stringify({ payloads: [toJson(foreign!)] }), auth);
    assert.equal(response.status, 422);
    assert.match(((await response.json()) as { error: string }).error, /"k9"/);
  });
});
