import https from 'node:https';
import { type AddressInfo } from 'node:net';
import { type TestCertificates } from './testCertificates';

export interface FakeIdentityProvider {
  authority: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Tokens handed out so far. */
  issued(): number;
  /** Every token ever issued, in order; the fake Dataverse accepts only these. */
  tokens: Set<string>;
  setLifetimeSeconds(seconds: number): void;
  /** Makes the next failure message quote the presented secret, to prove our errors redact it. */
  echoSecretInErrors: boolean;
  close(): Promise<void>;
}

/** Just enough of an Entra ID tenant for msal-node's client-credentials flow over real TLS. */
export async function startFakeIdentityProvider(certs: TestCertificates): Promise<FakeIdentityProvider> {
  const tenantId = 'contoso-tenant';
  const clientId = '11111111-2222-3333-4444-555555555555';
  const clientSecret = 'correct-horse~battery+staple';
  let issued = 0;
  let lifetime = 3600;
  const tokens = new Set<string>();
  const state = { echoSecretInErrors: false };

  const server = https.createServer({ key: certs.serverKeyPem, cert: certs.serverCertPem }, (req, res) => {
    const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/${tenantId}`;
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && url.pathname === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
        return send(200, {
          issuer: `${base}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
        });
      }
      if (req.method === 'POST' && url.pathname === `/${tenantId}/oauth2/v2.0/token`) {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
          const quoted = state.echoSecretInErrors ? ` (you sent '${form.get('client_secret') ?? ''}')` : '';
          return send(401, {
            error: 'invalid_client',
            error_description: `AADSTS7000215: Invalid client secret provided${quoted}.`,
            error_codes: [7000215],
          });
        }
        issued += 1;
        const token = `token-${issued}-${Math.random().toString(36).slice(2)}`;
        tokens.add(token);
        return send(200, { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
      }
      send(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    authority: `https://127.0.0.1:${port}/${tenantId}`,
    tenantId,
    clientId,
    clientSecret,
    issued: () => issued,
    tokens,
    setLifetimeSeconds: (s) => {
      lifetime = s;
    },
    get echoSecretInErrors() {
      return state.echoSecretInErrors;
    },
    set echoSecretInErrors(v: boolean) {
      state.echoSecretInErrors = v;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
