/**
 * What QBWC does with a qbXML request: hand it to QuickBooks' request processor and get a qbXML response back.
 * A rejected request (QuickBooks throwing instead of answering) must reject with {@link QuickBooksProcessingError}
 * or any error carrying string `hresult` and `message`, which the simulator forwards in `receiveResponseXML`.
 */
export type CompanyFileProcessor = ((qbxml: string) => Promise<string>) & {
  /** QBWC ends its QuickBooks session after every run, killed or not; QuickBooks then forgets the run's iterators. */
  endSession?: () => Promise<void> | void;
};

export class QuickBooksProcessingError extends Error {
  override readonly name = 'QuickBooksProcessingError';
  constructor(
    readonly hresult: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProcessingFailure {
  hresult: string;
  message: string;
}

/** Reads `{hresult, message}` off whatever a processor threw, if it carries them. */
export function processingFailureOf(err: unknown): ProcessingFailure | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const hresult: unknown = Reflect.get(err, 'hresult');
  const message: unknown = Reflect.get(err, 'message');
  if (typeof hresult !== 'string' || hresult === '' || typeof message !== 'string') return undefined;
  return { hresult, message };
}

/**
 * A processor backed by the QuickBooks sandbox server (`POST <url>` with the qbXML as body): 200 → qbXML text;
 * 400 with JSON `{hresult, message}` → {@link QuickBooksProcessingError}; anything else → plain Error.
 */
export function httpCompanyFileProcessor(url: string, opts: { timeoutMs?: number } = {}): CompanyFileProcessor {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const endSessionUrl = new URL(url);
  endSessionUrl.pathname = `${endSessionUrl.pathname.replace(/\/$/, '')}/end-session`;
  const endSession = async (): Promise<void> => {
    const res = await fetch(endSessionUrl, { method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`ending the QuickBooks session at ${url} answered HTTP ${res.status}`);
  };
  const process = async (qbxml: string): Promise<string> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      body: qbxml,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return text;
    if (res.status === 400) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const failure = processingFailureOf(parsed);
      if (failure) throw new QuickBooksProcessingError(failure.hresult, failure.message);
    }
    throw new Error(`company file processor at ${url} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  };
  return Object.assign(process, { endSession });
}
