import express, { type Request, type Response, type Router } from 'express';
import { XMLValidator } from 'fast-xml-parser';
import * as soap from 'soap';
import type { Logger } from 'pino';
import { escapeXml } from '../../qbxml/xml';
import { buildQbwcWsdl } from './wsdl';
import type { QbwcService } from './service';

/** QBWC posts one company-file response per call; 10 MB is generous for MaxReturned-bounded pages. */
export const DEFAULT_MAX_SOAP_BODY_BYTES = 10 * 1024 * 1024;

export interface SoapEndpointOptions {
  service: QbwcService;
  /** The URL QBWC is configured with (the .QWC AppURL); written into the WSDL. */
  publicUrl: string;
  log: Logger;
  maxBodyBytes?: number;
}

export function soapFault(faultcode: 'Client' | 'Server', faultstring: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>' +
    `<faultcode>soap:${faultcode}</faultcode><faultstring>${escapeXml(faultstring)}</faultstring>` +
    '</soap:Fault></soap:Body></soap:Envelope>'
  );
}

function sendFault(res: Response, status: number, faultcode: 'Client' | 'Server', message: string): void {
  res.status(status).type('text/xml; charset=utf-8').send(soapFault(faultcode, message));
}

/**
 * `/qbwc`: the SOAP endpoint the Web Connector calls, built on the `soap` package in serverless mode so that this
 * module decides what reaches it: bodies over the limit, not well-formed, or carrying a DOCTYPE/entity declaration
 * are answered with a SOAP Fault before any parsing that could expand entities, and never touch a queue.
 */
export async function createSoapEndpoint(options: SoapEndpointOptions): Promise<Router> {
  const wsdl = buildQbwcWsdl(options.publicUrl);
  const server = await soap.createServerless({
    path: '/qbwc',
    services: { QBWebConnectorSvc: { QBWebConnectorSvcSoap: options.service } },
    xml: wsdl,
    uri: '',
    suppressStack: true,
  });

  const limit = options.maxBodyBytes ?? DEFAULT_MAX_SOAP_BODY_BYTES;
  const router = express.Router();
  router.get('/qbwc', (req: Request, res: Response) => {
    if ('wsdl' in req.query || 'WSDL' in req.query) {
      res.type('text/xml; charset=utf-8').send(wsdl);
      return;
    }
    res.type('text/plain').send('QuickBooks Web Connector endpoint. The WSDL is at /qbwc?wsdl.');
  });
  router.post('/qbwc', express.raw({ type: () => true, limit }), async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (body.trim() === '') return sendFault(res, 500, 'Client', 'The request has no SOAP envelope.');
    if (/<!DOCTYPE|<!ENTITY/i.test(body)) {
      return sendFault(res, 500, 'Client', 'DOCTYPE and entity declarations are not accepted.');
    }
    const valid = XMLValidator.validate(body);
    if (valid !== true) {
      return sendFault(
        res,
        500,
        'Client',
        `The request is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}).`,
      );
    }
    try {
      const result = await server.processRequest(body, { headers: req.headers as Record<string, string> });
      res.status(result.statusCode).type('text/xml; charset=utf-8').send(result.body);
    } catch (error) {
      options.log.error({ error: String(error) }, 'QBWC call failed');
      sendFault(res, 500, 'Server', 'The connector could not process the call; it will be retried on the next run.');
    }
  });
  // express.raw's own errors (too large, bad encoding) still answer as SOAP.
  router.use(
    '/qbwc',
    (error: Error & { type?: string; status?: number }, _req: Request, res: Response, next: (e?: unknown) => void) => {
      if (res.headersSent) return next(error);
      if (error.type === 'entity.too.large') {
        return sendFault(res, 413, 'Client', `The request body is larger than ${limit} bytes.`);
      }
      return sendFault(res, error.status ?? 400, 'Client', error.message);
    },
  );
  return router;
}
