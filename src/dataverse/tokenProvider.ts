import { ConfidentialClientApplication, type Configuration, type INetworkModule } from '@azure/msal-node';
import { childLogger } from '../observability/logger';
import { DataverseAuthError } from './errors';
import { RoutedNetworkClient } from './networkClient';
import { outboundRoute } from './outboundRoute';

/** What the client needs from any token source; tests and other credential kinds plug in here. */
export interface DataverseTokenSource {
  getToken(): Promise<string>;
  /** The last token was refused (401): the next `getToken()` must fetch a fresh one. */
  invalidate(): void;
}

export interface TokenProviderOptions {
  /** Connection name, used in errors and logs. */
  connection: string;
  tenantId: string;
  clientId: string;
  /** One credential: a secret, a certificate, or a client assertion (many tenants forbid secrets). */
  clientSecret?: string;
  clientCertificate?: ClientCertificateCredential;
  /** A signed JWT-bearer assertion on demand (e.g. a federated or HSM-signed token); msal calls it per token request. */
  clientAssertion?: (request: { clientId: string; tokenEndpoint?: string }) => Promise<string>;
  /** `https://<org>.crm.dynamics.com`; the scope is `<environmentUrl>/.default` unless `scope` is given. */
  environmentUrl: string;
  scope?: string;
  /** Defaults to `https://login.microsoftonline.com/<tenantId>`. Any https authority is accepted. */
  authority?: string;
  /** Trust this CA (PEM) for the identity provider, on this connection's outbound route only. */
  caPem?: string;
  /** Where `HTTPS_PROXY` / `NO_PROXY` are read from (the process's environment by default). */
  env?: NodeJS.ProcessEnv;
  /** Pre-supplied OpenID metadata JSON (saves the discovery GET; see reference §7.3). */
  authorityMetadata?: string;
  /** Replaces the network layer entirely (unit tests). Takes precedence over `caPem` and the proxy. */
  networkClient?: INetworkModule;
}

/**
 * A certificate registered on the app registration. msal signs the client assertion with the private key and names
 * the certificate by its SHA-256 thumbprint; with `x5cPem` (the public certificate chain) it also sends `x5c`, which
 * subject-name/issuer authentication needs.
 */
export interface ClientCertificateCredential {
  /** Hex SHA-256 thumbprint of the certificate (colons allowed). */
  thumbprintSha256: string;
  /** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  privateKeyPem: string;
  x5cPem?: string;
}

/** Hosts msal already knows; any other authority host must be declared in `knownAuthorities`. */
const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/**
 * Client-credentials tokens for one connection. One msal application per connection so its in-memory cache
 * holds that connection's token, which msal renews five minutes before expiry (reference §7.2).
 */
export class DataverseTokenProvider implements DataverseTokenSource {
  readonly authority: string;
  readonly scope: string;
  private readonly app: ConfidentialClientApplication;
  private readonly closeRoute: (() => Promise<void>) | undefined;
  private readonly routedClient: RoutedNetworkClient | undefined;
  private readonly log;
  private forceRefresh = false;

  constructor(private readonly options: TokenProviderOptions) {
    this.authority = (options.authority ?? `https://login.microsoftonline.com/${options.tenantId}`).replace(/\/+$/, '');
    const authorityUrl = parseHttpsUrl(this.authority, options.connection, 'authority');
    const environment = parseHttpsUrl(options.environmentUrl, options.connection, 'environment URL');
    this.scope = options.scope ?? `${environment.origin}/.default`;
    this.log = childLogger({ component: 'dataverse-token', connection: options.connection });

    // Token requests take the connection's outbound route (its CA, the proxy), never msal's global fetch.
    let networkClient = options.networkClient;
    if (!networkClient) {
      const route = outboundRoute({
        ...(options.caPem ? { caPem: options.caPem } : {}),
        ...(options.env ? { env: options.env } : {}),
        connections: 4,
      });
      this.routedClient = new RoutedNetworkClient(route.dispatcher);
      networkClient = this.routedClient;
      this.closeRoute = () => route.dispatcher.close();
    }
    const config: Configuration = {
      auth: {
        clientId: options.clientId,
        ...credentialOf(options),
        authority: this.authority,
        ...(MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname) ? {} : { knownAuthorities: [authorityUrl.host] }),
        ...(options.authorityMetadata ? { authorityMetadata: options.authorityMetadata } : {}),
      },
      system: {
        networkClient,
        loggerOptions: { piiLoggingEnabled: false, logLevel: 1 /* Warning */, loggerCallback: () => undefined },
      },
    };
    this.app = new ConfidentialClientApplication(config);
  }

  async getToken(): Promise<string> {
    const skipCache = this.forceRefresh;
    try {
      const result = await this.app.acquireTokenByClientCredential({ scopes: [this.scope], skipCache });
      if (!result?.accessToken) throw new Error('identity provider returned no access token');
      this.forceRefresh = false;
      if (!result.fromCache) this.log.debug({ expiresOn: result.expiresOn?.toISOString() }, 'dataverse token issued');
      return result.accessToken;
    } catch (err) {
      const networkFailure = this.routedClient?.lastFailure;
      throw new DataverseAuthError({
        connection: this.options.connection,
        status: 0,
        code: errorCode(err),
        message: `could not get a token from authority ${this.authority} for client ${this.options.clientId}: ${this.redact(
          err instanceof Error ? err.message : String(err),
        )}${networkFailure ? ` (the request could not be sent: ${networkFailure})` : ''}`,
      });
    }
  }

  invalidate(): void {
    this.forceRefresh = true;
  }

  async close(): Promise<void> {
    await this.closeRoute?.();
  }

  /** Identity providers do not echo secrets, but an error message is no place to find out they started to. */
  private redact(text: string): string {
    const secret = this.options.clientSecret;
    let out = text;
    if (secret) {
      out = out.split(secret).join('[redacted]');
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) out = out.split(encoded).join('[redacted]');
    }
    return out.replace(/\s+/g, ' ').trim();
  }
}

/** Exactly one credential, in msal's terms. */
function credentialOf(
  options: TokenProviderOptions,
): Pick<Configuration['auth'], 'clientSecret' | 'clientCertificate' | 'clientAssertion'> {
  const given = [options.clientSecret, options.clientCertificate, options.clientAssertion].filter(
    (c) => c !== undefined && c !== '',
  );
  if (given.length !== 1) {
    throw new DataverseAuthError({
      connection: options.connection,
      status: 0,
      code: '',
      message: `exactly one credential is needed (client secret, certificate or client assertion); ${given.length} given`,
    });
  }
  if (options.clientCertificate) {
    const { thumbprintSha256, privateKeyPem, x5cPem } = options.clientCertificate;
    return {
      clientCertificate: {
        thumbprintSha256: thumbprintSha256.replace(/:/g, '').toLowerCase(),
        privateKey: privateKeyPem,
        ...(x5cPem ? { x5c: x5cPem } : {}),
      },
    };
  }
  if (options.clientAssertion) {
    const assertion = options.clientAssertion;
    return {
      clientAssertion: (config) =>
        assertion({
          clientId: config.clientId,
          ...(config.tokenEndpoint ? { tokenEndpoint: config.tokenEndpoint } : {}),
        }),
    };
  }
  return { clientSecret: options.clientSecret ?? '' };
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'errorCode' in err && typeof err.errorCode === 'string') {
    return err.errorCode;
  }
  return '';
}

function parseHttpsUrl(raw: string, connection: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DataverseAuthError({ connection, status: 0, code: '', message: `${what} "${raw}" is not a URL` });
  }
  if (url.protocol !== 'https:') {
    throw new DataverseAuthError({ connection, status: 0, code: '', message: `${what} ${url.origin} must use https` });
  }
  return url;
}
