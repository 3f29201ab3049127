import https from 'node:https';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/**
 * msal-node's own network layer uses the global fetch, which cannot be told to trust one extra CA without
 * changing TLS for the whole process. This module gives msal one connection-scoped `https.Agent` instead, so a
 * private identity provider (the sandbox, an on-prem ADFS) is trusted only by the connection configured for it.
 */
export class CaPinnedNetworkClient implements INetworkModule {
  private readonly agent: https.Agent;

  constructor(
    caPem: string,
    private readonly defaultTimeoutMs = 30_000,
  ) {
    this.agent = new https.Agent({ ca: caPem, keepAlive: true });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, undefined);
  }

  close(): void {
    this.agent.destroy();
  }

  private send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout: number | undefined,
  ): Promise<NetworkResponse<T>> {
    const target = new URL(url);
    if (target.protocol !== 'https:')
      return Promise.reject(new Error(`Refusing non-https identity endpoint ${target.origin}`));
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(options?.headers ?? {}) };
      if (options?.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
      const req = https.request(
        target,
        { method, headers, agent: this.agent, timeout: timeout ?? this.defaultTimeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const responseHeaders: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) responseHeaders[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: parseBody(text) as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Identity request to ${target.origin} timed out`)));
      req.on('error', reject);
      if (options?.body !== undefined) req.write(options.body);
      req.end();
    });
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
