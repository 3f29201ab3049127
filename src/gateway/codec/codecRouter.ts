import { timingSafeEqual, createHash } from 'node:crypto';
import express, {
  type ErrorRequestHandler,
  type NextFunction,
  type Request,
  type Response,
  type Router,
} from 'express';
import { type Payload, type PayloadCodec } from '@temporalio/common';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type CodecAccess } from './codecAccess';

export interface CodecRouterOptions {
  codec: PayloadCodec;
  access: CodecAccess;
  /** Browser origins allowed to call the endpoint (the Temporal Web UI). */
  uiOrigins: string[];
  log: Logger;
  /** Request body limit in bytes; the UI batches a whole history page into one call. Default 4 MiB. */
  maxBodyBytes?: number;
}

const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

/** QBSYNC_UI_ORIGIN (comma-separated) or the dev server's UI under both names a browser may have typed. */
export function uiOriginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.QBSYNC_UI_ORIGIN?.split(',')
    .map((origin) => origin.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (!configured?.length) return DEFAULT_UI_ORIGINS;
  const withLoopbackTwin = configured.flatMap((origin) =>
    origin.startsWith('http://localhost:')
      ? [origin, origin.replace('http://localhost:', 'http://127.0.0.1:')]
      : [origin],
  );
  return [...new Set(withLoopbackTwin)];
}

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

// Protobuf JSON: bytes are base64 (standard or URL-safe alphabet).
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const payloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).optional(),
      data: base64.optional(),
    }),
  ),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

/** Hashing first gives equal-length inputs, so neither the comparison nor a length check leaks how much matched. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function bearer(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/**
 * The Temporal codec server protocol (`POST …/encode`, `POST …/decode`, `{ payloads: [...] }` in and out) for the Web
 * UI and the CLI, behind a bearer token, with CORS only for the UI's origin.
 */
export function codecRouter(options: CodecRouterOptions): Router {
  const router = express.Router();
  const origins = new Set(options.uiOrigins);
  const parseJson = express.json({ limit: options.maxBodyBytes ?? 4 * 1024 * 1024, type: () => true });

  const cors = (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin');
    if (origin && origins.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.append('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return next();
    if (!origin || !origins.has(origin)) {
      res.status(403).json({ error: 'This origin may not call the codec endpoint.' });
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    // Chrome asks before a page reaches a loopback address; the UI itself is on loopback in development.
    if (req.get('access-control-request-private-network') === 'true') {
      res.setHeader('Access-Control-Allow-Private-Network', 'true');
    }
    res.status(204).end();
  };

  const unauthorised = (res: Response): void => {
    res.setHeader('WWW-Authenticate', 'Bearer realm="qbsync-codec"');
    res.status(401).json({ error: 'A valid bearer token is required for the codec endpoint.' });
  };

  const requireBearer = (req: Request, res: Response, next: NextFunction): void => {
    const token = bearer(req);
    if (token && sameToken(token, options.access.bearerToken)) return next();
    unauthorised(res);
  };

  const requirePathToken = (req: Request, res: Response, next: NextFunction): void => {
    const expected = options.access.uiPathToken;
    const given = req.params.token;
    if (expected && typeof given === 'string' && sameToken(given, expected)) return next();
    unauthorised(res);
  };

  const convert =
    (direction: 'encode' | 'decode') =>
    async (req: Request, res: Response): Promise<void> => {
      const parsed = payloadsBody.safeParse(req.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        res.status(400).json({
          error: `Expected { "payloads": [ { "metadata": { "<key>": "<base64>" }, "data": "<base64>" } ] }: ${issue?.path.join('.') || '(body)'} ${issue?.message ?? 'is invalid'}.`,
        });
        return;
      }
      try {
        const input = parsed.data.payloads.map(fromJson);
        const output = direction === 'encode' ? await options.codec.encode(input) : await options.codec.decode(input);
        res.json({ payloads: output.map(toJson) });
      } catch (error) {
        // Codec errors name a key id at most; the payloads themselves never reach the log.
        const message = error instanceof Error ? error.message : String(error);
        options.log.warn({ direction, namespace: req.get('x-namespace'), error: message }, 'codec request failed');
        res.status(422).json({ error: message });
      }
    };

  for (const direction of ['encode', 'decode'] as const) {
    router.options([`/codec/${direction}`, `/codec/ui/:token/${direction}`], cors);
    router.post(`/codec/${direction}`, cors, requireBearer, parseJson, convert(direction));
    router.post(`/codec/ui/:token/${direction}`, cors, requirePathToken, parseJson, convert(direction));
  }

  const bodyErrors: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!req.path.startsWith('/codec/')) return next(error);
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      res
        .status(413)
        .json({ error: `Codec request body is larger than ${options.maxBodyBytes ?? 4 * 1024 * 1024} bytes.` });
    } else if (type === 'entity.parse.failed') {
      res.status(400).json({ error: 'Codec request body is not valid JSON.' });
    } else {
      options.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'codec request failed');
      res.status(400).json({ error: 'Codec request could not be read.' });
    }
  };
  router.use(bodyErrors);
  return router;
}
