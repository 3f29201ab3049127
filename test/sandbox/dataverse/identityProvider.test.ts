import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { ensureSandboxCertificates } from '../../../src/sandbox/dataverse/certificateAuthority';
import { type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { freshDataDir, httpsRequest, msalFor, startForTest, tokenFor, WebApiClient } from './sandboxClient';

describe('sandbox certificates', () => {
  it('issues a server certificate for 127.0.0.1 and localhost signed by the CA, and reuses the files', async () => {
    const dir = freshDataDir('certs');
    const first = await ensureSandboxCertificates(dir);
    const server = new X509Certificate(first.certPem);
    const ca = new X509Certificate(first.caCertPem);
    assert.ok(server.verify(ca.publicKey));
    assert.ok(server.checkIP('127.0.0.1'));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.ok(ca.ca);
    const second = await ensureSandboxCertificates(dir);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.caCertPem, first.caCertPem);
  });
});

describe('identity provider with real msal-node', () => {
  let sandbox: DataverseSandbox;
  let client: WebApiClient;

  before(async () => {
    ({ sandbox, client } = await startForTest('idp', { tokenLifetimeSeconds: 2 }));
  });
  after(async () => sandbox.close());

  it('serves OpenID metadata msal accepts and issues an RS256 token with the expected claims', async () => {
    const before = sandbox.stats().tokensIssued;
    const result = await msalFor(sandbox).acquireTokenByClientCredential({ scopes: [sandbox.scope] });
    assert.ok(result !== null);
    const payload = JSON.parse(
      Buffer.from(result.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    const header = JSON.parse(
      Buffer.from(result.accessToken.split('.')[0] ?? '', 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    assert.equal(header.alg, 'RS256');
    assert.equal(payload.aud, sandbox.environmentUrl);
    assert.equal(payload.appid, sandbox.clientId);
    assert.equal(payload.azp, sandbox.clientId);
    assert.equal(payload.tid, sandbox.tenantId);
    assert.equal((payload.exp as number) - (payload.iat as number), 2);
    assert.equal(sandbox.stats().tokensIssued, before + 1);
  });

  it('refuses a wrong secret with invalid_client / AADSTS7000215', async () => {
    await assert.rejects(
      msalFor(sandbox, 'wrong-secret').acquireTokenByClientCredential({ scopes: [sandbox.scope] }),
      (error: unknown) => {
        assert.match(String((error as { errorCode?: string }).errorCode), /invalid_client/);
        assert.match(String((error as Error).message), /AADSTS7000215/);
        return true;
      },
    );
  });

  const tokenEndpointCases: Array<{ name: string; form: Record<string, string>; status: number; error: string }> = [
    {
      name: 'wrong secret',
      form: { grant_type: 'client_credentials', client_secret: 'nope' },
      status: 401,
      error: 'invalid_client',
    },
    {
      name: 'unknown client',
      form: { grant_type: 'client_credentials', client_id: 'someone-else' },
      status: 400,
      error: 'unauthorized_client',
    },
    {
      name: 'scope without /.default',
      form: { grant_type: 'client_credentials', scope: 'https://example.org/user_impersonation' },
      status: 400,
      error: 'invalid_scope',
    },
    { name: 'password grant', form: { grant_type: 'password' }, status: 400, error: 'unsupported_grant_type' },
  ];
  for (const c of tokenEndpointCases) {
    it(`token endpoint rejects ${c.name}`, async () => {
      const form = new URLSearchParams({
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
        scope: sandbox.scope,
        ...c.form,
      });
      const response = await httpsRequest(
        sandbox.caCertPem,
        'POST',
        `${sandbox.authority}/oauth2/v2.0/token`,
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        form.toString(),
      );
      assert.equal(response.status, c.status);
      const body = JSON.parse(response.text) as { error: string; error_description: string; error_codes: number[] };
      assert.equal(body.error, c.error);
      assert.match(body.error_description, /^AADSTS\d+: /);
      assert.equal(body.error_codes.length, 1);
    });
  }

  it('answers instance discovery with the sandbox host as alias', async () => {
    const response = await httpsRequest(
      sandbox.caCertPem,
      'GET',
      `${sandbox.environmentUrl}/common/discovery/instance?api-version=1.1&authorization_endpoint=x`,
    );
    const body = JSON.parse(response.text) as {
      tenant_discovery_endpoint: string;
      metadata: Array<{ aliases: string[] }>;
    };
    assert.equal(body.tenant_discovery_endpoint, `${sandbox.authority}/v2.0/.well-known/openid-configuration`);
    assert.deepEqual(body.metadata[0]?.aliases, [new URL(sandbox.environmentUrl).host]);
  });

  const badTokens: Array<{ name: string; authorization: (good: string) => string | undefined; code: string }> = [
    { name: 'no Authorization header', authorization: () => undefined, code: '0x80048306' },
    { name: 'tampered signature', authorization: (good) => `Bearer ${good.slice(0, -4)}AAAA`, code: '0x80048306' },
    { name: 'not a JWT', authorization: () => 'Bearer abc', code: '0x80048306' },
  ];
  for (const c of badTokens) {
    it(`Web API answers 401 for ${c.name}`, async () => {
      const authorization = c.authorization(client.token);
      const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
      const response = await httpsRequest(sandbox.caCertPem, 'GET', `${sandbox.webApiUrl}accounts`, headers);
      assert.equal(response.status, 401);
      assert.equal((JSON.parse(response.text) as { error: { code: string } }).error.code, c.code);
      assert.match(response.headers['www-authenticate'] ?? '', /^Bearer error=invalid_token/);
    });
  }

  it('rejects an expired token with 401 ExpiredOAuthToken, and msal fetches a fresh one', async () => {
    // A token of its own: the one from before() may already have lived its 2 s while earlier tests ran on a busy machine.
    client.token = await tokenFor(sandbox);
    const ok = await client.call('GET', 'accounts?$top=1');
    assert.equal(ok.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const expired = await client.call('GET', 'accounts?$top=1');
    assert.equal(expired.status, 401);
    assert.equal((expired.json().error as { code: string }).code, '0x80041d52');
    const fresh = await msalFor(sandbox).acquireTokenByClientCredential({ scopes: [sandbox.scope] });
    assert.ok(fresh !== null);
    const retried = await new WebApiClient(sandbox, fresh.accessToken).call('GET', 'accounts?$top=1');
    assert.equal(retried.status, 200);
  });
});
