import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * The keys that encrypt Temporal payloads. The active key encrypts; every key stays available for decryption, because
 * histories written before a rotation must stay readable for the namespace's whole retention period.
 */
export class PayloadKeyRing {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(
    readonly activeKeyId: string,
    keys: Iterable<readonly [string, Buffer]>,
  ) {
    const map = new Map<string, Buffer>();
    for (const [id, key] of keys) {
      assertKeyId(id);
      if (key.length !== KEY_BYTES) {
        throw new Error(`Payload key "${id}" must be ${KEY_BYTES} bytes (AES-256), not ${key.length}.`);
      }
      map.set(id, key);
    }
    if (!map.has(activeKeyId)) throw new Error(`The active payload key "${activeKeyId}" is not in the key ring.`);
    this.keys = map;
  }

  get activeKey(): Buffer {
    return this.keys.get(this.activeKeyId)!;
  }

  key(id: string): Buffer | undefined {
    return this.keys.get(id);
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }
}

const PAYLOAD_KEYS_ENV = 'QBSYNC_PAYLOAD_KEYS';
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function assertKeyId(id: string): void {
  if (!KEY_ID.test(id)) {
    throw new Error(
      `Payload key id "${id}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
}

/** Strict base64: a typo in a key must fail loudly instead of decoding to different bytes. */
function decodeKey(id: string, base64: string, source: string): Buffer {
  const trimmed = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && !/^[A-Za-z0-9_-]+$/.test(trimmed)) {
    throw new Error(`Payload key "${id}" in ${source} is not base64.`);
  }
  return Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
}

/** `QBSYNC_PAYLOAD_KEYS=id1:base64,id0:base64` — the first key is the active one. */
export function parsePayloadKeysEnv(value: string): PayloadKeyRing {
  const entries = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index): [string, Buffer] => {
      const colon = part.indexOf(':');
      if (colon <= 0) {
        throw new Error(`${PAYLOAD_KEYS_ENV}: entry ${index + 1} must look like <key id>:<base64 key>.`);
      }
      const id = part.slice(0, colon);
      return [id, decodeKey(id, part.slice(colon + 1), PAYLOAD_KEYS_ENV)];
    });
  if (entries.length === 0) throw new Error(`${PAYLOAD_KEYS_ENV} is set but holds no key.`);
  const ids = entries.map(([id]) => id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`${PAYLOAD_KEYS_ENV}: key id "${duplicate}" appears twice.`);
  return new PayloadKeyRing(entries[0]![0], entries);
}

const keyFileSchema = z.object({
  active: z.string(),
  keys: z.record(z.string(), z.string()),
});
type PayloadKeyFile = z.infer<typeof keyFileSchema>;

export function payloadKeyFilePath(dataDir: string): string {
  return join(dataDir, 'keys', 'payload-keys.json');
}

/** Group- or world-readable key files are refused, the way ssh refuses private keys: the key is the data's only lock. */
export function assertPrivateFile(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${path} is readable by other users (mode ${mode.toString(8)}); run \`chmod 600 ${path}\`.`);
  }
}

function readKeyFile(path: string): PayloadKeyFile {
  assertPrivateFile(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(`${path} is not valid JSON.`);
  }
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${path} must hold { "active": "<key id>", "keys": { "<key id>": "<base64>" } }.`);
  return parsed.data;
}

function ringFromFile(path: string, file: PayloadKeyFile): PayloadKeyRing {
  return new PayloadKeyRing(
    file.active,
    Object.entries(file.keys).map(([id, key]): [string, Buffer] => [id, decodeKey(id, key, path)]),
  );
}

/** Written to a temporary file and renamed, so a crash never leaves a half-written key file (and lost keys). */
export function writePrivateFileAtomically(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

function newKeyId(): string {
  const stamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
  return `pk-${stamp}-${randomBytes(3).toString('hex')}`;
}

function writeKeyFile(path: string, file: PayloadKeyFile): void {
  writePrivateFileAtomically(path, `${JSON.stringify(file, null, 2)}\n`);
}

/** The sandbox and `npm start`: a key file with one random key, created only when none exists. */
export function ensurePayloadKeyFile(dataDir: string): string {
  const path = payloadKeyFilePath(dataDir);
  if (!existsSync(path)) {
    const id = newKeyId();
    writeKeyFile(path, { active: id, keys: { [id]: randomBytes(KEY_BYTES).toString('base64') } });
  }
  return path;
}

/** Adds a new active key; old keys stay so that payloads already in histories can still be decrypted. */
export function rotatePayloadKey(dataDir: string): string {
  const path = ensurePayloadKeyFile(dataDir);
  const file = readKeyFile(path);
  ringFromFile(path, file);
  let id = newKeyId();
  while (file.keys[id]) id = newKeyId();
  writeKeyFile(path, { active: id, keys: { ...file.keys, [id]: randomBytes(KEY_BYTES).toString('base64') } });
  return id;
}

/** The environment wins over the key file, so a deployment can keep keys in its secret manager only. */
export function loadPayloadKeyRing(dataDir: string, env: NodeJS.ProcessEnv = process.env): PayloadKeyRing {
  const fromEnv = env[PAYLOAD_KEYS_ENV];
  if (fromEnv) return parsePayloadKeysEnv(fromEnv);
  const path = payloadKeyFilePath(dataDir);
  if (!existsSync(path)) {
    throw new Error(
      `No payload encryption keys: set ${PAYLOAD_KEYS_ENV}=<id>:<base64 key>[,...] or create ${path} (\`npm start\` does).`,
    );
  }
  return ringFromFile(path, readKeyFile(path));
}
