import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { childLogger } from '../../observability/logger';
import { QuickBooksParseError, type CompanyFileSimulator } from './companyFile';

export interface QuickBooksSandboxOptions {
  /** Default 8090; 0 picks a free port. */
  port?: number;
  host?: string;
  companyFiles: CompanyFileSimulator[];
}

export interface QuickBooksSandbox {
  url: string;
  close(): Promise<void>;
}

const log = childLogger({ component: 'quickbooks-sandbox-http' });

/**
 * HTTP face of the simulated QuickBooks: what the Web Connector would hand to QBXMLRP2 on the desktop, reachable over
 * HTTP so the gateway's test double of QBWC can "open" a company file by name.
 */
export async function startQuickBooksSandbox(opts: QuickBooksSandboxOptions): Promise<QuickBooksSandbox> {
  const files = new Map(opts.companyFiles.map((f) => [f.name, f]));
  /** The company file a request names (`?companyFile=` or `X-Company-File`), or a 404 already answered. */
  const companyFileOf = (req: Request, res: Response): CompanyFileSimulator | undefined => {
    const fromQuery = typeof req.query['companyFile'] === 'string' ? req.query['companyFile'] : undefined;
    const name = fromQuery ?? req.get('X-Company-File');
    const file = name === undefined ? undefined : files.get(name);
    if (!file) res.status(404).json({ message: `unknown company file ${name ?? '(none given)'}` });
    return file;
  };
  const app = express();
  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok', companyFiles: [...files.keys()] });
  });
  app.post('/qbxml/end-session', (req: Request, res: Response) => {
    const file = companyFileOf(req, res);
    if (!file) return;
    file.endSession();
    res.status(204).end();
  });
  app.post('/qbxml', express.text({ type: () => true, limit: '5mb' }), (req: Request, res: Response) => {
    const file = companyFileOf(req, res);
    if (!file) return;
    const body: unknown = req.body;
    if (typeof body !== 'string' || body === '') {
      const err = new QuickBooksParseError('empty request body');
      res.status(400).json({ hresult: err.hresult, message: err.message });
      return;
    }
    try {
      res.type('text/xml').send(file.processRequest(body));
    } catch (err) {
      if (err instanceof QuickBooksParseError) {
        log.info({ companyFile: file.name, detail: err.detail }, 'qbXML rejected');
        res.status(400).json({ hresult: err.hresult, message: err.message });
        return;
      }
      log.error({ err, companyFile: file.name }, 'simulator failure');
      res.status(500).json({
        hresult: '0x80040402',
        message: 'Unexpected error. Check the qbsdklog.txt file for possible, additional information.',
      });
    }
  });
  const server = app.listen(opts.port ?? 8090, opts.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
