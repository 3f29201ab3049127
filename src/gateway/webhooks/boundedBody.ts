import { type IncomingMessage } from 'node:http';

export type BoundedBody =
  | { kind: 'complete'; bytes: Buffer }
  | { kind: 'tooLarge'; receivedBytes: number; declaredBytes?: number }
  | { kind: 'aborted' };

/**
 * Reads a request body but keeps at most `limitBytes` in memory. Past the limit the rest is read and thrown away so
 * the caller still gets a clean 413 instead of a reset connection; past `discardCapBytes` we stop reading at all
 * (the caller should answer with `Connection: close`).
 */
export function readBoundedBody(
  req: IncomingMessage,
  limitBytes: number,
  discardCapBytes = limitBytes * 4,
): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length']);
  const declaredBytes = Number.isFinite(declared) ? declared : undefined;
  if (declaredBytes !== undefined && declaredBytes > discardCapBytes) {
    req.pause();
    return Promise.resolve({ kind: 'tooLarge', receivedBytes: 0, declaredBytes });
  }

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (result: BoundedBody): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      if (received > discardCapBytes) {
        req.pause();
        settle({ kind: 'tooLarge', receivedBytes: received, declaredBytes });
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      settle(
        received > limitBytes
          ? { kind: 'tooLarge', receivedBytes: received, declaredBytes }
          : { kind: 'complete', bytes: Buffer.concat(chunks) },
      );
    });
    req.once('error', () => settle({ kind: 'aborted' }));
    req.once('close', () => settle({ kind: 'aborted' }));
  });
}
