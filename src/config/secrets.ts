import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { assertPrivateFile, writePrivateFileAtomically } from '../codec/keyRing';

/**
 * Named secrets at rest (`<dataDir>/secrets.json`, AES-256-GCM), and the references config uses instead of values:
 * `secret:<name>` (this store) or `env:<VAR>` (the environment). Errors name the reference or the file, never a value.
 */

const SECRETS_KEY_ENV = 'QBSYNC_SECRETS_KEY';
/** Web Connector passwords and webhook keys face the internet: anything shorter is refused at configuration load. */
export const MIN_SECRET_LENGTH = 16;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const storeFileSchema = z.object({
  version: z.literal(1),
  /** Which key encrypted the entries: lets a rotation interrupted between two renames finish on the next open. */
  keyFingerprint: z.string(),
  secrets: z.record(
    z.string(),
    z.object({ iv: z.string(), ciphertext: z.string(), tag: z.string(), changedAt: z.string() }),
  ),
});
type StoreFile = z.infer<typeof storeFileSchema>;

export interface SecretListing {
  name: string;
  changedAt: string;
}

export function secretStorePath(dataDir: string): string {
  return join(dataDir, 'secrets.json');
}

export function secretsKeyPath(dataDir: string): string {
  return join(dataDir, 'keys', 'secrets.key');
}

function nextKeyPath(dataDir: string): string {
  return `${secretsKeyPath(dataDir)}.next`;
}

/** A short one-way tag of the key: tells keys apart without revealing anything usable about them. */
function fingerprint(key: Buffer): string {
  return createHash('sha256').update('qbsync-secrets-key').update(key).digest('hex').slice(0, 16);
}

function decodeKey(base64: string, source: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`${source} must be ${KEY_BYTES} bytes in base64 (AES-256).`);
  return key;
}

function readKeyFile(path: string): Buffer {
  assertPrivateFile(path);
  return decodeKey(readFileSync(path, 'utf8'), path);
}

function assertSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new Error(
      `Secret name "${name}" must be 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
}

export class SecretStore {
  private constructor(
    readonly dataDir: string,
    private key: Buffer,
    private readonly keyFromEnv: boolean,
    private file: StoreFile,
  ) {}

  get path(): string {
    return secretStorePath(this.dataDir);
  }

  /** The key comes from QBSYNC_SECRETS_KEY or the key file, which is created (0600) the first time it is needed. */
  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretStore {
    const storePath = secretStorePath(dataDir);
    let file: StoreFile | undefined;
    if (existsSync(storePath)) {
      assertPrivateFile(storePath);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(storePath, 'utf8'));
      } catch {
        throw new Error(`${storePath} is not valid JSON.`);
      }
      const parsed = storeFileSchema.safeParse(raw);
      if (!parsed.success) throw new Error(`${storePath} is not a qbsync secret store.`);
      file = parsed.data;
    }

    const fromEnv = env[SECRETS_KEY_ENV];
    let key: Buffer;
    if (fromEnv) {
      key = decodeKey(fromEnv, SECRETS_KEY_ENV);
    } else {
      const keyPath = secretsKeyPath(dataDir);
      const pending = nextKeyPath(dataDir);
      if (file && existsSync(pending) && fingerprint(readKeyFile(pending)) === file.keyFingerprint) {
        // A rotation wrote the store under the new key but stopped before the key file was replaced: finish it.
        renameSync(pending, keyPath);
      }
      if (!existsSync(keyPath)) {
        if (file && Object.keys(file.secrets).length > 0) {
          throw new Error(`${storePath} holds secrets but its key ${keyPath} is missing (or set ${SECRETS_KEY_ENV}).`);
        }
        writePrivateFileAtomically(keyPath, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
      }
      key = readKeyFile(keyPath);
      if (existsSync(pending)) rmSync(pending);
    }
    if (file && Object.keys(file.secrets).length > 0 && file.keyFingerprint !== fingerprint(key)) {
      throw new Error(
        `${storePath} was encrypted with a different key than ${fromEnv ? SECRETS_KEY_ENV : secretsKeyPath(dataDir)}.`,
      );
    }
    return new SecretStore(
      dataDir,
      key,
      Boolean(fromEnv),
      file ?? { version: 1, keyFingerprint: fingerprint(key), secrets: {} },
    );
  }

  list(): SecretListing[] {
    return Object.entries(this.file.secrets)
      .map(([name, entry]) => ({ name, changedAt: entry.changedAt }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string): boolean {
    return Object.hasOwn(this.file.secrets, name);
  }

  get(name: string): string | undefined {
    const entry = this.file.secrets[name];
    if (!entry) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(entry.iv, 'base64'));
    // The name is authenticated: an entry copied under another name does not decrypt.
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(entry.ciphertext, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(`Secret "${name}" in ${this.path} cannot be decrypted: it was altered or the key is wrong.`);
    }
  }

  set(name: string, value: string, now: Date = new Date()): void {
    assertSecretName(name);
    if (value.length === 0) throw new Error(`Secret "${name}" would be empty.`);
    this.file = {
      ...this.file,
      keyFingerprint: fingerprint(this.key),
      secrets: { ...this.file.secrets, [name]: this.seal(name, value, this.key, now.toISOString()) },
    };
    this.save();
  }

  /** Sets the secret only when it does not exist yet (the sandbox's generated credentials), and returns its value. */
  ensure(name: string, create: () => string): string {
    const existing = this.get(name);
    if (existing !== undefined) return existing;
    const value = create();
    this.set(name, value);
    return value;
  }

  /**
   * Re-encrypts every secret under a fresh key. Order matters for crash safety: the new key is parked next to the old
   * one, then the store is replaced, then the key; `open` finishes a rotation that stopped in between.
   */
  rotateKey(): { rotated: number } {
    if (this.keyFromEnv) {
      throw new Error(
        `The secrets key comes from ${SECRETS_KEY_ENV}: rotate it where that variable is managed (rotate-key manages only ${secretsKeyPath(this.dataDir)}).`,
      );
    }
    const newKey = randomBytes(KEY_BYTES);
    const secrets = Object.fromEntries(
      Object.entries(this.file.secrets).map(([name, entry]) => [
        name,
        this.seal(name, this.get(name)!, newKey, entry.changedAt),
      ]),
    );
    writePrivateFileAtomically(nextKeyPath(this.dataDir), `${newKey.toString('base64')}\n`);
    this.file = { version: 1, keyFingerprint: fingerprint(newKey), secrets };
    this.save();
    renameSync(nextKeyPath(this.dataDir), secretsKeyPath(this.dataDir));
    this.key = newKey;
    return { rotated: Object.keys(secrets).length };
  }

  private seal(name: string, value: string, key: Buffer, changedAt: string): StoreFile['secrets'][string] {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return {
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      changedAt,
    };
  }

  private save(): void {
    writePrivateFileAtomically(this.path, `${JSON.stringify(this.file, null, 2)}\n`);
  }
}

/** True for `secret:<name>` and `env:<VAR>`: what config may hold in place of a credential. */
export function isSecretReference(value: string): boolean {
  return /^(secret|env):./.test(value);
}

/**
 * The value behind a reference. The store is opened only for `secret:` references, so config that uses `env:` alone
 * needs no key. Errors name the reference, never the value.
 */
export function resolveSecret(
  reference: string,
  store: SecretStore | (() => SecretStore),
  env: NodeJS.ProcessEnv = process.env,
): string {
  const colon = reference.indexOf(':');
  const scheme = colon > 0 ? reference.slice(0, colon) : '';
  const name = reference.slice(colon + 1);
  if (scheme === 'env') {
    const value = env[name];
    if (!value) throw new Error(`Secret reference "${reference}": environment variable ${name} is not set.`);
    return value;
  }
  if (scheme === 'secret') {
    assertSecretName(name);
    const opened = typeof store === 'function' ? store() : store;
    const value = opened.get(name);
    if (value === undefined) {
      throw new Error(
        `Secret reference "${reference}": no secret named "${name}" in ${opened.path} (set it with \`qbsync secrets set ${name}\`).`,
      );
    }
    return value;
  }
  throw new Error('Not a secret reference: use secret:<name> or env:<VARIABLE>.');
}
