import { generateKeyPairSync, randomUUID, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, exportJWK, jwtVerify, SignJWT } from 'jose';
import { deterministicGuid } from './deterministicId';

export interface IdentityProviderOptions {
  environmentUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Further app registrations in the tenant (client id → secret), e.g. the connector's least-privilege app. */
  otherApps?: Readonly<Record<string, string>>;
  tokenLifetimeSeconds: number;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type TokenCheck =
  { ok: true; clientId: string } | { ok: false; reason: 'missing' | 'expired' | 'invalid'; detail: string };

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A Microsoft Entra look-alike that real msal-node accepts: OpenID metadata, instance discovery, JWKS and a
 * client-credentials token endpoint issuing RS256 access tokens for the sandbox environment.
 */
export class IdentityProvider {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly keyId = randomUUID();
  tokensIssued = 0;
  private lifetimeSeconds: number;
  /** Certificates registered on the app (its "Certificates & secrets"), by SHA-256 and SHA-1 thumbprint (base64url). */
  private readonly certificates = new Map<string, X509Certificate>();

  constructor(private readonly options: IdentityProviderOptions) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.lifetimeSeconds = options.tokenLifetimeSeconds;
  }

  /** Registers a certificate credential on the app, as an admin uploads one in Entra. */
  registerCertificate(pem: string): void {
    const certificate = new X509Certificate(pem);
    for (const fingerprint of [certificate.fingerprint256, certificate.fingerprint]) {
      this.certificates.set(Buffer.from(fingerprint.replace(/:/g, ''), 'hex').toString('base64url'), certificate);
    }
  }

  setTokenLifetime(seconds: number): void {
    this.lifetimeSeconds = seconds;
  }

  get issuer(): string {
    return `${this.options.environmentUrl}/${this.options.tenantId}/v2.0`;
  }

  private metadata(tenant: string): Record<string, unknown> {
    const base = `${this.options.environmentUrl}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/openid/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'appid', 'azp'],
      tenant_region_scope: 'NA',
      cloud_instance_name: new URL(this.options.environmentUrl).host,
      cloud_graph_host_name: new URL(this.options.environmentUrl).host,
      msgraph_host: new URL(this.options.environmentUrl).host,
    };
  }

  private oauthError(status: number, error: string, aadsts: string, description: string): HttpAnswer {
    const now = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return json(status, {
      error,
      error_description: `${aadsts}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${now}`,
      error_codes: [Number(aadsts.replace('AADSTS', ''))],
      timestamp: now,
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    });
  }

  /** Answers identity requests; `undefined` when the path is not one of ours. */
  async handle(method: string, url: URL, body: string): Promise<HttpAnswer | undefined> {
    const host = url.host;
    if (method === 'GET' && url.pathname === '/common/discovery/instance') {
      const tenantDiscovery = `${this.options.environmentUrl}/${this.options.tenantId}/v2.0/.well-known/openid-configuration`;
      return json(200, {
        tenant_discovery_endpoint: tenantDiscovery,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    }
    const match =
      /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(
        url.pathname,
      );
    if (match?.[1] === undefined || match[2] === undefined) return undefined;
    const tenant = decodeURIComponent(match[1]);
    const knownTenant = tenant === this.options.tenantId || tenant === 'organizations';
    if (match[2].endsWith('openid-configuration') && method === 'GET') {
      if (!knownTenant) return this.oauthError(400, 'invalid_tenant', 'AADSTS90002', `Tenant '${tenant}' not found.`);
      return json(200, this.metadata(this.options.tenantId));
    }
    if (match[2] === 'discovery/v2.0/keys' && method === 'GET') {
      const jwk = await exportJWK(this.publicKey);
      return json(200, { keys: [{ ...jwk, kid: this.keyId, use: 'sig', alg: 'RS256' }] });
    }
    if (match[2] === 'oauth2/v2.0/token' && method === 'POST') {
      if (!knownTenant) return this.oauthError(400, 'invalid_tenant', 'AADSTS90002', `Tenant '${tenant}' not found.`);
      return this.issueToken(new URLSearchParams(body));
    }
    return undefined;
  }

  private async issueToken(form: URLSearchParams): Promise<HttpAnswer> {
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return this.oauthError(
        400,
        'unsupported_grant_type',
        'AADSTS70003',
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    const clientId = form.get('client_id') ?? '';
    const secret =
      clientId === this.options.clientId
        ? this.options.clientSecret
        : Object.prototype.hasOwnProperty.call(this.options.otherApps ?? {}, clientId)
          ? this.options.otherApps?.[clientId]
          : undefined;
    if (secret === undefined) {
      return this.oauthError(
        400,
        'unauthorized_client',
        'AADSTS700016',
        `Application with identifier '${clientId}' was not found in the directory '${this.options.tenantId}'.`,
      );
    }
    const assertion = form.get('client_assertion');
    if (assertion !== null || form.get('client_assertion_type') !== null) {
      const refused = await this.checkClientAssertion(form, clientId);
      if (refused !== undefined) return refused;
    } else if (!constantTimeEqual(form.get('client_secret') ?? '', secret)) {
      return this.oauthError(
        401,
        'invalid_client',
        'AADSTS7000215',
        'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
      );
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
    const wanted = `${this.options.environmentUrl}/.default`;
    const resourceScopes = scopes.filter((s) => !['openid', 'profile', 'offline_access'].includes(s));
    if (resourceScopes.length !== 1 || resourceScopes[0] !== wanted) {
      return this.oauthError(
        400,
        'invalid_scope',
        'AADSTS1002012',
        `The provided value for scope '${scopes.join(' ')}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.lifetimeSeconds;
    const token = await new SignJWT({
      appid: clientId,
      azp: clientId,
      tid: this.options.tenantId,
      oid: deterministicGuid(`application-user:${clientId}`),
      idtyp: 'app',
      ver: '2.0',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.keyId })
      .setIssuer(this.issuer)
      .setAudience(this.options.environmentUrl)
      .setSubject(deterministicGuid(`application-user:${clientId}`))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(this.privateKey);
    this.tokensIssued += 1;
    return json(200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
  }

  /**
   * A certificate credential, as Entra checks it: a JWT-bearer client assertion whose header names a registered
   * certificate by thumbprint (x5t#S256 or x5t; with x5c, the chain's first certificate must be that certificate),
   * signed by its key (PS256 or RS256), issued by and about the client, for this token endpoint, and in its validity.
   */
  private async checkClientAssertion(form: URLSearchParams, clientId: string): Promise<HttpAnswer | undefined> {
    const invalid = (aadsts: string, description: string): HttpAnswer =>
      this.oauthError(401, 'invalid_client', aadsts, description);
    if (form.get('client_assertion_type') !== JWT_BEARER)
      return this.oauthError(
        400,
        'invalid_request',
        'AADSTS50027',
        `The client_assertion_type must be '${JWT_BEARER}'.`,
      );
    const assertion = form.get('client_assertion') ?? '';
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return invalid('AADSTS50027', 'JWT token is invalid or malformed.');
    }
    const thumbprint = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : header.x5t;
    const certificate = typeof thumbprint === 'string' ? this.certificates.get(thumbprint) : undefined;
    if (certificate === undefined)
      return invalid(
        'AADSTS700027',
        `Client assertion failed signature validation. Key was not found: no certificate with thumbprint '${String(thumbprint)}' is registered for application '${clientId}'.`,
      );
    const chain = header.x5c;
    if (chain !== undefined && (!Array.isArray(chain) || chain[0] !== certificate.raw.toString('base64')))
      return invalid(
        'AADSTS700027',
        'Client assertion failed signature validation. The x5c chain does not start with the certificate named by the thumbprint.',
      );
    if (header.alg !== 'PS256' && header.alg !== 'RS256')
      return invalid(
        'AADSTS700027',
        `Client assertion failed signature validation. Algorithm '${String(header.alg)}' is not supported.`,
      );
    try {
      await jwtVerify(assertion, certificate.publicKey, {
        algorithms: [header.alg],
        issuer: clientId,
        subject: clientId,
        audience: `${this.options.environmentUrl}/${this.options.tenantId}/oauth2/v2.0/token`,
        // Entra allows five minutes of clock skew on a client assertion; msal-node stamps nbf with its own clock's
        // second, which a strict check refused whenever the assertion arrived in the same second it was made.
        clockTolerance: 300,
      });
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        return invalid('AADSTS700024', 'Client assertion is not within its valid time range.');
      if (error instanceof joseErrors.JWSSignatureVerificationFailed)
        return invalid('AADSTS700027', 'Client assertion failed signature validation.');
      return invalid(
        'AADSTS700027',
        `Client assertion contains an invalid claim: ${error instanceof Error ? error.message : 'unknown'}.`,
      );
    }
    return undefined;
  }

  /** Validates a bearer token: our signature, our issuer, audience = the environment, not expired. */
  async verify(authorization: string | undefined): Promise<TokenCheck> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (match?.[1] === undefined) return { ok: false, reason: 'missing', detail: 'Bearer token is missing.' };
    try {
      const { payload } = await jwtVerify(match[1], this.publicKey, {
        algorithms: ['RS256'],
        issuer: this.issuer,
        audience: this.options.environmentUrl,
        clockTolerance: 0,
      });
      const clientId =
        typeof payload.appid === 'string' ? payload.appid : typeof payload.azp === 'string' ? payload.azp : '';
      return { ok: true, clientId };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        return { ok: false, reason: 'expired', detail: 'The access token is expired.' };
      return {
        ok: false,
        reason: 'invalid',
        detail: error instanceof Error ? error.message : 'The access token is invalid.',
      };
    }
  }
}
