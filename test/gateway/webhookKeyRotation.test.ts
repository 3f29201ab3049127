import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type WebhookAuth } from '../../src/config/deployment';
import { authenticateWebhook } from '../../src/gateway/webhooks/webhookAuth';

const windowEnd = Date.parse('2026-12-31T00:00:00Z');
const rotating: WebhookAuth = {
  kind: 'WebhookKey',
  key: 'the-new-webhook-key-0123456789',
  previousKey: { key: 'the-old-webhook-key-0123456789', untilMs: windowEnd },
};

function deliver(auth: WebhookAuth, code: string, now: number) {
  return authenticateWebhook(auth, {}, { code }, now);
}

describe('webhook key rotation', () => {
  it('accepts the new key and the old one until the rotation window closes', () => {
    assert.deepEqual(deliver(rotating, rotating.key, windowEnd - 1), { ok: true });
    assert.deepEqual(deliver(rotating, rotating.previousKey!.key, windowEnd - 1), { ok: true });
    assert.deepEqual(deliver(rotating, rotating.previousKey!.key, windowEnd), { ok: true });
  });

  it('refuses the old key once the window has closed, and any other key at any time', () => {
    assert.deepEqual(deliver(rotating, rotating.previousKey!.key, windowEnd + 1), { ok: false, reason: 'expired' });
    assert.deepEqual(deliver(rotating, rotating.key, windowEnd + 1), { ok: true });
    assert.deepEqual(deliver(rotating, 'an-unrelated-guess-0123456789', windowEnd - 1), {
      ok: false,
      reason: 'mismatch',
    });
    const { previousKey: _old, ...settled } = rotating;
    assert.deepEqual(deliver(settled, rotating.previousKey!.key, windowEnd - 1), { ok: false, reason: 'mismatch' });
  });

  it('treats an empty previous key as a configuration error, never as an open door', () => {
    const broken: WebhookAuth = { ...rotating, previousKey: { key: '', untilMs: windowEnd } };
    assert.deepEqual(deliver(broken, '', windowEnd - 1), { ok: false, reason: 'misconfigured' });
  });
});
