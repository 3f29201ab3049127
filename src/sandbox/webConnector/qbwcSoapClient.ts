import { buildQbwcRequest, QBWC_NAMESPACE, readQbwcResult, type QbwcMethod, type SoapParameter } from './soapEnvelope';

/** The transport failed or the server answered a non-2xx status without a SOAP Fault. */
class QbwcHttpError extends Error {
  override readonly name = 'QbwcHttpError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** fetch reports "fetch failed" and hides the useful part (ECONNREFUSED, timeout) in `cause`. */
function describeFetchFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/**
 * Posts one QBWC callback to the service at AppURL and returns the raw reply body. Faults are surfaced even on
 * HTTP 500 (where SOAP 1.1 puts them); any other non-2xx status is a {@link QbwcHttpError}.
 */
export class QbwcSoapClient {
  constructor(
    private readonly appUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async call(method: QbwcMethod, parameters: readonly SoapParameter[]): Promise<string> {
    let res: Response;
    try {
      res = await fetch(this.appUrl, {
        method: 'POST',
        headers: {
          'Content-Type': 'text/xml; charset=utf-8',
          SOAPAction: `"${QBWC_NAMESPACE}${method}"`,
        },
        body: buildQbwcRequest(method, parameters),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new QbwcHttpError(`${method}: could not reach ${this.appUrl}: ${describeFetchFailure(err)}`);
    }
    const body = await res.text();
    if (!res.ok) {
      // a Fault body explains the failure better than the status line, so let the parser raise it
      if (/Fault/.test(body)) readQbwcResult(method, body);
      throw new QbwcHttpError(`${method}: HTTP ${res.status} from ${this.appUrl}`, res.status);
    }
    if (body.trim() === '') throw new QbwcHttpError(`${method}: the request failed with an empty response`, res.status);
    return body;
  }
}
