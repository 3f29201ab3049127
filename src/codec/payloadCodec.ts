import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { type PayloadKeyRing } from './keyRing';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const ENCRYPTION_KEY_ID_KEY = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = temporal.api.common.v1.Payload;

/** Names the payload's problem and, at most, the key id: never key material or plaintext. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

function text(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
}

/**
 * AES-256-GCM over the whole serialised payload (metadata and data), so the Temporal service sees neither customer data
 * nor which converter produced it. The key id is authenticated too (additional data): relabelling a payload with
 * another key id fails instead of silently decrypting under a key the writer never chose.
 */
export class EncryptedPayloadCodec implements PayloadCodec {
  constructor(private readonly keyRing: PayloadKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.keyRing.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keyRing.activeKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const plain = ProtoPayload.encode({
      metadata: payload.metadata ?? {},
      data: payload.data ?? new Uint8Array(),
    }).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING, 'utf8'),
        [ENCRYPTION_KEY_ID_KEY]: Buffer.from(keyId, 'utf8'),
      },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[ENCRYPTION_KEY_ID_KEY]);
    if (!keyId) throw new PayloadDecryptionError(`Encrypted payload has no ${ENCRYPTION_KEY_ID_KEY} metadata.`);
    const key = this.keyRing.key(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `Encrypted payload uses key "${keyId}", which is not in the payload key ring (known: ${this.keyRing.keyIds.join(', ')}).`,
      );
    }
    const sealed = Buffer.from(payload.data ?? new Uint8Array());
    if (sealed.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(`Encrypted payload (key "${keyId}") is too short to be AES-256-GCM output.`);
    }
    const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(keyId, 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `Encrypted payload (key "${keyId}") failed authentication: it was altered or encrypted with a different key.`,
      );
    }
    const inner = ProtoPayload.decode(plain);
    return { metadata: inner.metadata, data: inner.data };
  }
}
