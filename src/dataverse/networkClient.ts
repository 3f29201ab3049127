import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { request, type Dispatcher } from 'undici';

/**
 * msal-node's own network layer is the global fetch, which neither trusts a connection's extra CA without changing TLS
 * for the whole process nor takes the outbound proxy (Node 20's fetch ignores `HTTPS_PROXY`). This module sends msal's
 * requests over the connection's outbound route instead (`outboundRoute.ts`), the same one its Web API calls take.
 */
export class RoutedNetworkClient implements INetworkModule {
  /**
   * Why the last request could not be sent (proxy refused, 407, connection reset). msal reports such failures only as
   * its own code (`endpoints_resolution_error`), so the token provider adds this to say what went wrong.
   */
  lastFailure: string | undefined;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, undefined);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout: number | undefined,
  ): Promise<NetworkResponse<T>> {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw new Error(`Refusing non-https identity endpoint ${target.origin}`);
    const limit = timeout ?? this.defaultTimeoutMs;
    let response: Dispatcher.ResponseData;
    this.lastFailure = undefined;
    try {
      response = await request(target, {
        method,
        headers: options?.headers ?? {},
        ...(options?.body !== undefined ? { body: options.body } : {}),
        dispatcher: this.dispatcher,
        headersTimeout: limit,
        bodyTimeout: limit,
        signal: AbortSignal.timeout(limit),
      });
    } catch (err) {
      // undici's message only (refused, proxy answered 407, timed out): the request body holds the credential.
      const reason = err instanceof Error ? err.message : String(err);
      this.lastFailure = `${target.host}: ${reason}`;
      throw new Error(`identity request to ${target.origin} failed: ${reason}`);
    }
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(response.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    return { status: response.statusCode, headers, body: parseBody(text) as T };
  }
}

/** msal expects an object; a non-JSON error page becomes an OAuth-shaped error so msal reports it instead of crashing. */
function parseBody(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return { error: 'invalid_response', error_description: text.slice(0, 200) };
  }
}
