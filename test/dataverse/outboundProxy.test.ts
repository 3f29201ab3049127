import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../support/certificates';
import { stringify } from 'yaml';
import { loadDeployment } from '../../src/config/deployment';
import { connectDataverse, dataverseTokenProvider } from '../../src/dataverse/connect';
import { DataverseClient } from '../../src/dataverse/client';
import { DataverseAuthError, DataverseError } from '../../src/dataverse/errors';
import { outboundRoute } from '../../src/dataverse/outboundRoute';
import { RateGovernor } from '../../src/dataverse/rateGovernor';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';

/**
 * A forward proxy as corporate networks run them: HTTPS goes through `CONNECT host:port` tunnels, which it may
 * require a login for (407 otherwise). It records every tunnel asked for; `refuse` answers 403 instead of opening it,
 * so a test can see where a request was headed without reaching the internet.
 */
interface RecordingProxy {
  url: string;
  tunnels: string[];
  close(): Promise<void>;
}

async function startProxy(options: { login?: { user: string; password: string }; refuse?: boolean } = {}) {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const expected = options.login
      ? `Basic ${Buffer.from(`${options.login.user}:${options.login.password}`).toString('base64')}`
      : undefined;
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n\r\n');
      return;
    }
    tunnels.push(req.url ?? '');
    if (options.refuse) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const credentials = options.login ? `${options.login.user}:${options.login.password}@` : '';
  return {
    url: `http://${credentials}127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  } satisfies RecordingProxy;
}

/** A port nothing listens on: a proxy that is down. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the outbound proxy (HTTPS_PROXY, NO_PROXY) for token requests and Web API calls', () => {
  let sandbox: DataverseSandbox;
  let root: string;
  const target = () => ({
    environmentUrl: sandbox.environmentUrl,
    webApiUrl: sandbox.webApiUrl,
    tenantId: sandbox.tenantId,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    authority: sandbox.authority,
    caPem: sandbox.caCertPem,
  });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'qbsync-proxy-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: join(root, 'dataverse'), seed: false });
  });
  after(async () => {
    await sandbox.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('sends the token request and the Web API call through the proxy, the sandbox CA checked inside the tunnel', async () => {
    const proxy = await startProxy();
    const sandboxHost = new URL(sandbox.environmentUrl).host;
    const dataverse = connectDataverse(target(), { env: { HTTPS_PROXY: proxy.url } });
    try {
      const whoAmI = await dataverse.client.execute('GET', 'WhoAmI');
      assert.equal(whoAmI.status, 200);
      // One tunnel for msal's token request, one for the Web API: each route is its own, both through the proxy.
      assert.ok(proxy.tunnels.length >= 2, `tunnels: ${proxy.tunnels.join(', ')}`);
      assert.ok(proxy.tunnels.every((t) => t === sandboxHost));
    } finally {
      await dataverse.close();
      await proxy.close();
    }
  });

  it('fails the token request when the proxy is down (it does not quietly go around it)', async () => {
    const port = await closedPort();
    const tokens = dataverseTokenProvider(target(), 'proxy-down', { HTTPS_PROXY: `http://127.0.0.1:${port}` });
    try {
      const error = await tokens.getToken().catch((e: unknown) => e);
      assert.ok(error instanceof DataverseAuthError, String(error));
      assert.match(error.message, /could not get a token/);
    } finally {
      await tokens.close();
    }
  });

  it('reaches hosts listed in NO_PROXY directly', async () => {
    const port = await closedPort();
    const env = { HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: 'localhost,127.0.0.1' };
    const dataverse = connectDataverse(target(), { env });
    try {
      assert.equal((await dataverse.client.execute('GET', 'WhoAmI')).status, 200);
    } finally {
      await dataverse.close();
    }
  });

  it('logs in to a proxy that asks for it, and a wrong proxy password fails with 407, the password nowhere', async () => {
    const login = { user: 'svc-qbsync', password: 'proxy-pass-Zq81x' };
    const proxy = await startProxy({ login });
    try {
      const good = connectDataverse(target(), { env: { HTTPS_PROXY: proxy.url } });
      try {
        assert.equal((await good.client.execute('GET', 'WhoAmI')).status, 200);
      } finally {
        await good.close();
      }
      const wrong = proxy.url.replace(login.password, 'not-the-password-77');
      assert.equal(outboundRoute({ env: { HTTPS_PROXY: wrong } }).proxy, new URL(proxy.url).origin);
      const tokens = dataverseTokenProvider(target(), 'proxy-login', { HTTPS_PROXY: wrong });
      try {
        const error = await tokens.getToken().catch((e: unknown) => e);
        assert.ok(error instanceof DataverseAuthError, String(error));
        assert.match(error.message, /407/);
        assert.equal(error.message.includes('not-the-password-77'), false);
        assert.equal(JSON.stringify(error).includes('not-the-password-77'), false);
      } finally {
        await tokens.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('refuses a proxy variable that is not a URL without echoing it', () => {
    assert.throws(
      () => outboundRoute({ env: { HTTPS_PROXY: 'corp proxy:secret@3128' } }),
      (e: unknown) => e instanceof Error && /HTTPS_PROXY is not a URL/.test(e.message) && !e.message.includes('secret'),
    );
    assert.throws(() => outboundRoute({ env: { HTTPS_PROXY: 'socks5://proxy:1080' } }), /http:\/\/ or https:\/\//);
  });

  it("a production configuration reaches msal-node as Microsoft's: public authority, <org>/.default, no sandbox CA", async () => {
    // A firm's file: a real organisation, a certificate credential, nothing of the sandbox. The variables `npm start`
    // uses for the sandbox are set too, and must not leak into it.
    const etc = join(root, 'etc');
    mkdirSync(etc, { recursive: true });
    const credential = selfSignedCertificate('qbsync-production');
    writeFileSync(join(etc, 'app.crt'), credential.certPem);
    writeFileSync(join(etc, 'app.key'), credential.keyPem, { mode: 0o600 });
    const tenantId = '7f4c2a55-0d3e-4b8e-9a61-2c5d8e1f0a93';
    const configPath = join(etc, 'qbsync.yaml');
    writeFileSync(
      configPath,
      stringify({
        gateway: { publicUrl: 'https://qbsync.contoso.com/' },
        dataverse: {
          environmentUrl: 'https://contoso.crm.dynamics.com',
          tenantId,
          clientId: '3b1e9f2a-8c4d-4e7f-a6b5-9d0c1e2f3a4b',
          clientCertificate: { certificate: 'app.crt', privateKey: 'app.key', sendX5c: true },
        },
        connections: [
          {
            name: 'east',
            companyFileLabel: 'East office',
            qbwc: { userName: 'qbsync-east', password: 'env:EAST_QBWC_PASSWORD' },
            sync: {
              items: {
                accounts: { income: { fullName: 'Sales' } },
                writeInItem: { fullName: 'Write-in' },
                discountItem: { fullName: 'Discount' },
                freightItem: { fullName: 'Freight' },
              },
              invoices: { refNumber: { kind: 'orderNumber' } },
              receivesNewAccounts: true,
            },
          },
        ],
      }),
    );
    const proxy = await startProxy({ refuse: true });
    const env = {
      QBSYNC_CONFIG: configPath,
      HTTPS_PROXY: proxy.url,
      DATAVERSE_URL: sandbox.environmentUrl,
      DATAVERSE_AUTHORITY: sandbox.authority,
      NODE_EXTRA_CA_CERTS: sandbox.caCertPath,
    };
    const production = loadDeployment({ dataDir: join(root, 'data'), env }).dataverseTarget();
    assert.equal(production.environmentUrl, 'https://contoso.crm.dynamics.com');
    assert.equal(production.webApiUrl, 'https://contoso.crm.dynamics.com/api/data/v9.2/');
    assert.equal(production.caPem, undefined);
    assert.equal(production.authority, undefined);
    assert.equal(production.clientSecret, undefined);
    assert.equal(production.clientCertificate?.x5cPem, credential.certPem);
    assert.match(production.clientCertificate?.thumbprintSha256 ?? '', /^[0-9a-f]{64}$/);

    const tokens = dataverseTokenProvider(production, 'production', env);
    const client = new DataverseClient({
      connection: 'production',
      webApiUrl: production.webApiUrl,
      tokenProvider: { getToken: () => Promise.resolve('token-for-the-test'), invalidate: () => undefined },
      governor: new RateGovernor({ name: 'production' }),
      env,
      maxThrottleRetries: 0,
    });
    try {
      assert.equal(tokens.authority, `https://login.microsoftonline.com/${tenantId}`);
      assert.equal(tokens.scope, 'https://contoso.crm.dynamics.com/.default');
      const tokenError = await tokens.getToken().catch((e: unknown) => e);
      assert.ok(tokenError instanceof DataverseAuthError, String(tokenError));
      assert.equal(tokenError.message.includes('PRIVATE KEY'), false);
      const apiError = await client.execute('GET', 'WhoAmI').catch((e: unknown) => e);
      assert.ok(apiError instanceof DataverseError, String(apiError));
      // Where each went: Microsoft's identity platform and the organisation, on 443; never the sandbox.
      assert.ok(proxy.tunnels.includes('login.microsoftonline.com:443'), `tunnels: ${proxy.tunnels.join(', ')}`);
      assert.ok(proxy.tunnels.includes('contoso.crm.dynamics.com:443'), `tunnels: ${proxy.tunnels.join(', ')}`);
      const sandboxHost = new URL(sandbox.environmentUrl).host;
      assert.equal(
        proxy.tunnels.some((t) => t === sandboxHost),
        false,
      );
    } finally {
      await tokens.close();
      await client.close();
      await proxy.close();
    }
  });
});
