import https from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import {
  startDataverseSandbox,
  type DataverseSandbox,
  type DataverseSandboxOptions,
} from '../../../src/sandbox/dataverse/server';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Plain HTTPS with the sandbox CA as the only trust anchor — certificate checks stay on. */
export function httpsRequest(
  ca: string,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method,
        ca,
        headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(response.headers))
            if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: response.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The tiny INetworkModule msal-node needs to reach an identity provider whose certificate comes from our CA. */
function caTrustingNetworkClient(ca: string): INetworkModule {
  const send = async <T>(method: string, url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    const result = await httpsRequest(ca, method, url, options?.headers ?? {}, options?.body);
    return { status: result.status, headers: result.headers, body: JSON.parse(result.text) as T };
  };
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('GET', url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}

export function msalFor(sandbox: DataverseSandbox, secret = sandbox.clientSecret): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: sandbox.clientId,
      clientSecret: secret,
      authority: sandbox.authority,
      knownAuthorities: [new URL(sandbox.environmentUrl).host],
    },
    system: { networkClient: caTrustingNetworkClient(sandbox.caCertPem) },
  });
}

export async function tokenFor(sandbox: DataverseSandbox): Promise<string> {
  const result = await msalFor(sandbox).acquireTokenByClientCredential({ scopes: [sandbox.scope] });
  if (result === null) throw new Error('no token');
  return result.accessToken;
}

export function freshDataDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `dv-sandbox-${name}-`));
}

/** A Web API client bound to one sandbox and one token. */
export class WebApiClient {
  constructor(
    readonly sandbox: DataverseSandbox,
    public token: string,
  ) {}

  async call(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResult & { json: () => Record<string, unknown> }> {
    const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${this.sandbox.webApiUrl}${pathOrUrl}`;
    const allHeaders: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
      'OData-Version': '4.0',
      'OData-MaxVersion': '4.0',
      ...headers,
    };
    let text: string | undefined;
    if (body !== undefined) {
      text = typeof body === 'string' ? body : JSON.stringify(body);
      allHeaders['Content-Type'] ??= 'application/json';
    }
    const result = await httpsRequest(this.sandbox.caCertPem, method, url, allHeaders, text);
    return { ...result, json: () => JSON.parse(result.text) as Record<string, unknown> };
  }
}

export async function startForTest(
  name: string,
  options: Partial<DataverseSandboxOptions> = {},
): Promise<{ sandbox: DataverseSandbox; client: WebApiClient; dataDir: string }> {
  const dataDir = options.dataDir ?? freshDataDir(name);
  const sandbox = await startDataverseSandbox({ port: 0, keyActivationDelayMs: 10, ...options, dataDir });
  const client = new WebApiClient(sandbox, await tokenFor(sandbox));
  return { sandbox, client, dataDir };
}

/** Creates a string column and an alternate key on it through the metadata API, then waits for the key to be Active. */
export async function provisionKey(
  client: WebApiClient,
  table: string,
  column: string,
  keyName: string,
): Promise<void> {
  const created = await client.call('POST', `EntityDefinitions(LogicalName='${table}')/Attributes`, {
    '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata',
    SchemaName: column,
    MaxLength: 100,
  });
  if (created.status !== 204) throw new Error(`attribute create failed: ${created.status} ${created.text}`);
  const key = await client.call('POST', `EntityDefinitions(LogicalName='${table}')/Keys`, {
    SchemaName: keyName,
    KeyAttributes: [column.toLowerCase()],
  });
  if (key.status !== 204) throw new Error(`key create failed: ${key.status} ${key.text}`);
  for (let i = 0; i < 100; i += 1) {
    const keys = await client.call('GET', `EntityDefinitions(LogicalName='${table}')/Keys`);
    const value = keys.json().value as Array<{ SchemaName: string; EntityKeyIndexStatus: string }>;
    if (value.find((k) => k.SchemaName === keyName)?.EntityKeyIndexStatus === 'Active') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('key never became Active');
}
