import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { DataverseAuthError, DataverseClient, DataverseTokenProvider, RateGovernor } from '../../src/dataverse';

/** A self-signed certificate as an admin would upload to the app registration, with its PKCS#8 key. */
function makeClientCertificate(name: string): { certPem: string; privateKeyPem: string; thumbprintSha256: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '0a';
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: name }]);
  cert.setIssuer([{ name: 'commonName', value: name }]);
  cert.sign(
    forge.pki.privateKeyFromPem(keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    forge.md.sha256.create(),
  );
  const certPem = forge.pki.certificateToPem(cert);
  return {
    certPem,
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    thumbprintSha256: new X509Certificate(certPem).fingerprint256,
  };
}

describe('Entra certificate credentials', () => {
  const registered = makeClientCertificate('qbsync-connector');
  const stranger = makeClientCertificate('someone-else');
  let sandbox: DataverseSandbox;
  let dataDir: string;
  const closers: Array<() => Promise<void> | void> = [];

  const provider = (credential: {
    clientCertificate?: { thumbprintSha256: string; privateKeyPem: string; x5cPem?: string };
  }): DataverseTokenProvider => {
    const tokens = new DataverseTokenProvider({
      connection: 'cert',
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      environmentUrl: sandbox.environmentUrl,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
      ...credential,
    });
    closers.push(() => tokens.close());
    return tokens;
  };

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'dataverse-cert-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir, seed: false, clientCertificates: [registered.certPem] });
  });
  after(async () => {
    for (const close of closers) await close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gets a token with a registered certificate (by thumbprint, and with x5c) and calls the Web API', async () => {
    for (const x5c of [undefined, registered.certPem]) {
      const tokens = provider({
        clientCertificate: {
          thumbprintSha256: registered.thumbprintSha256,
          privateKeyPem: registered.privateKeyPem,
          ...(x5c ? { x5cPem: x5c } : {}),
        },
      });
      const client = new DataverseClient({
        connection: 'cert',
        webApiUrl: sandbox.webApiUrl,
        tokenProvider: tokens,
        caPem: sandbox.caCertPem,
        governor: new RateGovernor(),
      });
      closers.push(() => client.close());
      const whoAmI = await client.execute('GET', 'WhoAmI');
      assert.equal(whoAmI.status, 200);
    }
  });

  it('refuses an assertion signed by an unregistered certificate, or by the wrong key, as Entra does', async () => {
    const unknown = await provider({
      clientCertificate: { thumbprintSha256: stranger.thumbprintSha256, privateKeyPem: stranger.privateKeyPem },
    })
      .getToken()
      .catch((e: unknown) => e);
    assert.ok(unknown instanceof DataverseAuthError, String(unknown));
    assert.match(unknown.message, /AADSTS700027/);
    // The registered certificate's thumbprint, another key's signature.
    const forged = await provider({
      clientCertificate: { thumbprintSha256: registered.thumbprintSha256, privateKeyPem: stranger.privateKeyPem },
    })
      .getToken()
      .catch((e: unknown) => e);
    assert.ok(forged instanceof DataverseAuthError, String(forged));
    assert.match(forged.message, /AADSTS700027: Client assertion failed signature validation\./);
    assert.doesNotMatch(forged.message, /PRIVATE KEY/);
  });

  it('needs exactly one credential', () => {
    assert.throws(() => provider({}), /exactly one credential/);
  });
});
