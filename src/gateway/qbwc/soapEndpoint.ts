import express, { type Request, type Response, type Router } from 'express';
import { XMLValidator } from 'fast-xml-parser';
import * as soap from 'soap';
import type { Logger } from 'pino';
import { escapeXml } from '../../qbxml/xml';
import { UNREADABLE_ANSWER_HRESULT } from '../../workflows/companyFile/unreadableAnswers';
import type { TicketAuthority } from './tickets';
import { buildQbwcWsdl } from './wsdl';
import { checkXmlShape, SOAP_ENVELOPE_LIMITS } from '../../qbxml/xmlShape';
import type { QbwcService } from './service';

/**
 * Every call but `receiveResponseXML` is a few hundred bytes; 64 KB leaves room for long company-file paths and error
 * messages while keeping what an unauthenticated caller can make us read and scan small.
 */
const DEFAULT_MAX_SOAP_BODY_BYTES = 64 * 1024;
/** `receiveResponseXML` carries one page of company-file data; MaxReturned bounds it well under this. */
export const DEFAULT_MAX_RESPONSE_BODY_BYTES = 10 * 1024 * 1024;

export interface SoapEndpointOptions {
  service: QbwcService;
  /** The URL QBWC is configured with (the .QWC AppURL); written into the WSDL. */
  publicUrl: string;
  log: Logger;
  /** The service's tickets: only a call carrying a current one of them may send a large body. */
  tickets: TicketAuthority;
  maxBodyBytes?: number;
  maxResponseBodyBytes?: number;
}

function soapFault(faultcode: 'Client' | 'Server', faultstring: string): string {
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

/** `prefix`: the body's first bytes (at most the small limit), which name the call and its ticket. */
type SoapBody =
  { kind: 'complete'; text: string } | { kind: 'tooLarge'; limit: number; prefix: string } | { kind: 'aborted' };

const RESPONSE_CALL = /<(?:[\w.-]+:)?Body(?:\s[^>]*)?>\s*<(?:[\w.-]+:)?receiveResponseXML[\s>/]/;
const TICKET_ELEMENT = /<(?:[\w.-]+:)?ticket(?:\s[^>]*)?>([^<]{1,200})<\/(?:[\w.-]+:)?ticket>/;

/**
 * Reads at most `small` bytes unless the first `small` bytes are a `receiveResponseXML` call with a current ticket
 * (QBWC writes the ticket first), in which case up to `large`. A refused body is not read further than twice its
 * limit; past that the connection is closed.
 */
function readSoapBody(
  req: Request,
  small: number,
  large: number,
  admitsLarge: (prefix: string) => boolean,
): Promise<SoapBody> {
  const declared = Number(req.headers['content-length']);
  // A body declared too large is refused after its first bytes, which say whose answer it was.
  const declaredTooLarge = Number.isFinite(declared) && declared > large;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let limit = declaredTooLarge ? large : small;
    let decided = false;
    let refused = false;
    let settled = false;
    let prefix = '';
    const settle = (body: SoapBody): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(body);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (prefix.length < small && !refused) {
        prefix = Buffer.concat([...chunks, chunk])
          .subarray(0, small)
          .toString('utf8');
      }
      if (declaredTooLarge) {
        chunks.push(chunk);
        if (received >= small) {
          req.pause();
          settle({ kind: 'tooLarge', limit, prefix });
        }
        return;
      }
      if (!refused && received > limit && !decided) {
        decided = true;
        if (admitsLarge(prefix)) limit = large;
      }
      if (!refused && received > limit) {
        refused = true;
        chunks.length = 0;
      }
      if (refused) {
        if (received > limit * 2) {
          req.pause();
          settle({ kind: 'tooLarge', limit, prefix });
        }
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      settle(
        refused || declaredTooLarge
          ? { kind: 'tooLarge', limit, prefix }
          : { kind: 'complete', text: Buffer.concat(chunks).toString('utf8') },
      ),
    );
    req.once('error', () => settle({ kind: 'aborted' }));
    req.once('close', () => settle({ kind: 'aborted' }));
  });
}

/**
 * `/qbwc`: the SOAP endpoint the Web Connector calls, built on the `soap` package in serverless mode so that this
 * module decides what reaches it: bodies over the limit, too deep or wide, not well-formed, or carrying a DOCTYPE/entity
 * declaration are answered with a SOAP Fault before any parsing that could expand entities, and never touch a queue.
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

  const small = options.maxBodyBytes ?? DEFAULT_MAX_SOAP_BODY_BYTES;
  const large = options.maxResponseBodyBytes ?? DEFAULT_MAX_RESPONSE_BODY_BYTES;
  const admitsLarge = (prefix: string): boolean => {
    if (!RESPONSE_CALL.test(prefix)) return false;
    const ticket = TICKET_ELEMENT.exec(prefix)?.[1];
    return ticket !== undefined && options.tickets.verify(ticket.trim()) !== undefined;
  };
  /**
   * QuickBooks answered, and the answer is over the limit: the company file is told, so the message's queries are asked
   * again alone (and given up after a few tries) instead of going out again and again in the same too-large message.
   */
  const reportOversizedAnswer = async (prefix: string, limit: number): Promise<void> => {
    if (!admitsLarge(prefix)) return;
    const ticket = TICKET_ELEMENT.exec(prefix)?.[1]?.trim() ?? '';
    try {
      await options.service.receiveResponseXML({
        ticket,
        response: '',
        hresult: UNREADABLE_ANSWER_HRESULT,
        message: `QuickBooks' answer is larger than ${limit} bytes, the most this service reads`,
      });
    } catch (error) {
      options.log.warn({ error: String(error) }, 'could not report an oversized QuickBooks answer');
    }
  };
  const router = express.Router();
  router.get('/qbwc', (req: Request, res: Response) => {
    if ('wsdl' in req.query || 'WSDL' in req.query) {
      res.type('text/xml; charset=utf-8').send(wsdl);
      return;
    }
    res.type('text/plain').send('QuickBooks Web Connector endpoint. The WSDL is at /qbwc?wsdl.');
  });
  router.post('/qbwc', async (req: Request, res: Response) => {
    const read = await readSoapBody(req, small, large, admitsLarge);
    if (read.kind === 'aborted') return;
    if (read.kind === 'tooLarge') {
      await reportOversizedAnswer(read.prefix, read.limit);
      res.setHeader('connection', 'close');
      return sendFault(res, 413, 'Client', `The request body is larger than ${read.limit} bytes.`);
    }
    const body = read.text;
    if (body.trim() === '') return sendFault(res, 500, 'Client', 'The request has no SOAP envelope.');
    if (/<!DOCTYPE|<!ENTITY/i.test(body)) {
      return sendFault(res, 500, 'Client', 'DOCTYPE and entity declarations are not accepted.');
    }
    const shape = checkXmlShape(body, SOAP_ENVELOPE_LIMITS);
    if (!shape.ok) return sendFault(res, 500, 'Client', `The SOAP envelope has ${shape.reason}.`);
    const valid = XMLValidator.validate(body);
    if (valid !== true) {
      return sendFault(
        res,
        500,
        'Client',
        // The validator quotes the offending text; a caller gets back no more of its own input than it needs.
        `The request is not well-formed XML: ${valid.err.msg.slice(0, 200)} (line ${valid.err.line}).`,
      );
    }
    try {
      // The caller's address (behind the proxy: from X-Forwarded-For, per the app's `trust proxy`) for authenticate's
      // per-address backoff.
      const result = await server.processRequest(body, {
        headers: req.headers as Record<string, string>,
        connection: { remoteAddress: req.ip ?? req.socket.remoteAddress },
      });
      if (result.statusCode >= 500 && !/<(?:[\w.-]+:)?Fault[\s>]/.test(result.body)) {
        // The soap package answers an envelope it cannot map onto the WSDL with its internal error as plain text:
        // the caller sent something that is not a QBWC call, and our internals are none of its business.
        options.log.warn({ status: result.statusCode }, 'SOAP request not understood');
        return sendFault(res, 500, 'Client', 'The request is not a QuickBooks Web Connector call this service knows.');
      }
      res.status(result.statusCode).type('text/xml; charset=utf-8').send(result.body);
    } catch (error) {
      options.log.error({ err: error }, 'QBWC call failed');
      sendFault(res, 500, 'Server', 'The connector could not process the call; it will be retried on the next run.');
    }
  });
  return router;
}
