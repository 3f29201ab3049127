import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertPrivateFile, writePrivateFileAtomically } from '../../codec/keyRing';

/**
 * Who may call the codec endpoint. Operators and the Temporal CLI send `Authorization: Bearer <token>`. The Web UI of
 * `temporal server start-dev` can send neither a header nor cookies to another origin, so it gets its own capability
 * token inside the endpoint URL (`/codec/ui/<token>`), which only people who can open that UI can read.
 */
export interface CodecAccess {
  bearerToken: string;
  /** Absent in deployments whose UI passes headers itself: the path-token route then does not exist. */
  uiPathToken?: string;
}

const CODEC_TOKEN_ENV = 'QBSYNC_CODEC_TOKEN';
const CODEC_UI_TOKEN_ENV = 'QBSYNC_CODEC_UI_TOKEN';
const MIN_TOKEN_LENGTH = 24;

function codecTokenPath(dataDir: string): string {
  return join(dataDir, 'keys', 'codec-token');
}

function codecUiTokenPath(dataDir: string): string {
  return join(dataDir, 'keys', 'codec-ui-token');
}

/** Where `npm start` points the dev server's `--env-file`, so the UI's codec URL (with its token) stays out of `ps`. */
function temporalUiEnvFilePath(dataDir: string): string {
  return join(dataDir, 'keys', 'temporal-ui-env.yaml');
}

function readToken(path: string): string {
  assertPrivateFile(path);
  return readFileSync(path, 'utf8').trim();
}

function checked(token: string, source: string): string {
  if (token.length < MIN_TOKEN_LENGTH)
    throw new Error(`The codec token from ${source} is shorter than ${MIN_TOKEN_LENGTH} characters.`);
  return token;
}

export function loadCodecAccess(dataDir: string, env: NodeJS.ProcessEnv = process.env): CodecAccess {
  const bearerPath = codecTokenPath(dataDir);
  const bearerToken = env[CODEC_TOKEN_ENV]
    ? checked(env[CODEC_TOKEN_ENV], CODEC_TOKEN_ENV)
    : existsSync(bearerPath)
      ? checked(readToken(bearerPath), bearerPath)
      : undefined;
  if (!bearerToken) {
    throw new Error(`No codec endpoint token: set ${CODEC_TOKEN_ENV} or create ${bearerPath} (\`npm start\` does).`);
  }
  const uiPath = codecUiTokenPath(dataDir);
  const uiPathToken = env[CODEC_UI_TOKEN_ENV]
    ? checked(env[CODEC_UI_TOKEN_ENV], CODEC_UI_TOKEN_ENV)
    : existsSync(uiPath)
      ? checked(readToken(uiPath), uiPath)
      : undefined;
  return uiPathToken ? { bearerToken, uiPathToken } : { bearerToken };
}

/**
 * The sandbox: both tokens, created once, and the dev server's env file that points the Web UI at the gateway's
 * path-token route. Returns the paths so `npm start` can pass the env file and tell the operator where the token is.
 */
export function ensureCodecAccess(
  dataDir: string,
  gatewayBaseUrl: string,
): { tokenPath: string; temporalEnvFile: string } {
  for (const path of [codecTokenPath(dataDir), codecUiTokenPath(dataDir)]) {
    if (!existsSync(path)) writePrivateFileAtomically(path, `${randomBytes(32).toString('base64url')}\n`);
  }
  const uiToken = readToken(codecUiTokenPath(dataDir));
  const endpoint = `${gatewayBaseUrl.replace(/\/+$/, '')}/codec/ui/${uiToken}`;
  const temporalEnvFile = temporalUiEnvFilePath(dataDir);
  writePrivateFileAtomically(temporalEnvFile, `env:\n  default:\n    ui-codec-endpoint: ${JSON.stringify(endpoint)}\n`);
  return { tokenPath: codecTokenPath(dataDir), temporalEnvFile };
}
