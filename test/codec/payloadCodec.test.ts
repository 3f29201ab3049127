import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { EncryptedPayloadCodec, ENCRYPTION_KEY_ID_KEY, PayloadDecryptionError } from '../../src/codec/payloadCodec';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const ringBefore = new PayloadKeyRing('k0', [['k0', oldKey]]);
const ringAfter = new PayloadKeyRing('k1', [
  ['k1', newKey],
  ['k0', oldKey],
]);
const customer = { name: 'Aroha Secret-Customer', balance: '1234.56' };
const meta = (p: Payload, key: string): string => Buffer.from(p.metadata![key]!).toString();

describe('EncryptedPayloadCodec', () => {
  it('round-trips a payload with its metadata, and the ciphertext shows neither data nor encoding', async () => {
    const codec = new EncryptedPayloadCodec(ringBefore);
    const plain = defaultPayloadConverter.toPayload(customer);
    const [encrypted] = await codec.encode([plain]);
    assert.equal(meta(encrypted!, METADATA_ENCODING_KEY), 'binary/encrypted');
    assert.equal(meta(encrypted!, ENCRYPTION_KEY_ID_KEY), 'k0');
    assert.deepEqual(Object.keys(encrypted!.metadata!).sort(), [METADATA_ENCODING_KEY, ENCRYPTION_KEY_ID_KEY].sort());
    const bytes = Buffer.from(encrypted!.data!);
    assert.equal(bytes.includes(Buffer.from('Aroha')), false);
    assert.equal(bytes.includes(Buffer.from('json/plain')), false);
    const [decoded] = await codec.decode([encrypted!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), customer);
    assert.equal(meta(decoded!, METADATA_ENCODING_KEY), 'json/plain');
  });

  it('uses a fresh IV each time: the same payload never encrypts to the same bytes', async () => {
    const codec = new EncryptedPayloadCodec(ringBefore);
    const plain = defaultPayloadConverter.toPayload(customer);
    const [a, b] = await codec.encode([plain, plain]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('passes payloads that are not encrypted through unchanged', async () => {
    const plain = defaultPayloadConverter.toPayload({ legacy: true });
    const [decoded] = await new EncryptedPayloadCodec(ringBefore).decode([plain]);
    assert.equal(decoded, plain);
  });

  it('after rotation decodes payloads written under the old key and writes new ones under the new key', async () => {
    const [written] = await new EncryptedPayloadCodec(ringBefore).encode([defaultPayloadConverter.toPayload(customer)]);
    const rotated = new EncryptedPayloadCodec(ringAfter);
    const [decoded] = await rotated.decode([written!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), customer);
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(customer)]);
    assert.equal(meta(fresh!, ENCRYPTION_KEY_ID_KEY), 'k1');
  });

  it('names an unknown key id, never key material', async () => {
    const [written] = await new EncryptedPayloadCodec(ringAfter).encode([defaultPayloadConverter.toPayload(customer)]);
    await assert.rejects(new EncryptedPayloadCodec(ringBefore).decode([written!]), (error: Error) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.match(error.message, /"k1"/);
      for (const key of [oldKey, newKey]) {
        assert.equal(error.message.includes(key.toString('base64')), false);
        assert.equal(error.message.includes(key.toString('hex')), false);
      }
      return true;
    });
  });

  it('refuses tampered ciphertext, a swapped key id and a truncated payload', async () => {
    const codec = new EncryptedPayloadCodec(ringAfter);
    const [written] = await codec.encode([defaultPayloadConverter.toPayload(customer)]);
    const flipped = Buffer.from(written!.data!);
    flipped[20] = flipped[20]! ^ 0x01;
    await assert.rejects(codec.decode([{ ...written!, data: flipped }]), /altered/);

    // Same bytes relabelled with the other key id: the key id is authenticated, so this fails too.
    const relabelled = { ...written!, metadata: { ...written!.metadata, [ENCRYPTION_KEY_ID_KEY]: Buffer.from('k0') } };
    await assert.rejects(codec.decode([relabelled]), /altered|different key/);

    await assert.rejects(codec.decode([{ ...written!, data: Buffer.alloc(10) }]), /too short/);
  });
});
