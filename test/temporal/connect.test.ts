import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connectTemporalClient,
  connectTemporalWorker,
  describeTemporalHandshake,
  probeTemporalTls,
  TemporalConnectionError,
  type TemporalTarget,
} from '../../src/temporal/connect';
import { mutualTlsFixture } from '../support/certificates';

/**
 * The connection builder against a stand-in frontend: an HTTP/2 server that, like Temporal's frontend with
 * `requireClientAuth`, asks for a client certificate signed by its CA. The real frontend is the cluster tier's
 * (test-cluster/temporalTls.test.ts); here every refusal is reached in milliseconds.
 */
describe('Temporal connection over TLS: the handshake and the cause of each refusal', () => {
  let dir: string;
  let fixture: ReturnType<typeof mutualTlsFixture>;
  let frontend: Http2SecureServer;
  let plain: Server;
  let address: string;
  let plainAddress: string;
  const pem = (file: string): string => readFileSync(file, 'utf8');
  const target = (tls: TemporalTarget['tls']): TemporalTarget => ({ address, namespace: 'default', tls });
  const goodTls = (): NonNullable<TemporalTarget['tls']> => ({
    serverCaPem: pem(fixture.caFile),
    clientCertPem: pem(fixture.client.certFile),
    clientKeyPem: pem(fixture.client.keyFile),
    serverName: fixture.serverName,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-tls-'));
    fixture = mutualTlsFixture(dir);
    frontend = createSecureServer({
      cert: pem(fixture.server.certFile),
      key: pem(fixture.server.keyFile),
      ca: pem(fixture.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    });
    frontend.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end();
    });
    await new Promise<void>((r) => frontend.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(frontend.address() as AddressInfo).port}`;
    plain = createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainAddress = `127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => frontend.close(r));
    await new Promise((r) => plain.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the right client certificate: the handshake is accepted and reports the identity the server verified', async () => {
    const handshake = await probeTemporalTls(target(goodTls()));
    assert.equal(handshake.ok, true, JSON.stringify(handshake));
    assert.ok(handshake.ok);
    assert.match(handshake.client?.subject ?? '', /CN=qbsync-worker/);
    assert.match(handshake.server.subject, /CN=temporal\.qbsync\.test/);
    assert.match(handshake.server.issuer, /qbsync test cluster CA/);
    const described = await describeTemporalHandshake(target(goodTls()));
    assert.equal(described.ok, true);
    assert.match(described.lines.join('\n'), /client identity\s+CN=qbsync-worker/);
  });

  it('a server certificate from a CA we do not trust: unknown CA', async () => {
    const handshake = await probeTemporalTls(target({ ...goodTls(), serverCaPem: pem(fixture.rogueCaFile) }));
    assert.equal(handshake.ok, false);
    assert.ok(!handshake.ok);
    assert.match(handshake.problem, /^unknown CA: the server's certificate is not signed by the configured server CA/);
  });

  it('a client certificate from a CA the server does not trust: wrong client certificate', async () => {
    const tls = {
      ...goodTls(),
      clientCertPem: pem(fixture.rogueClient.certFile),
      clientKeyPem: pem(fixture.rogueClient.keyFile),
    };
    const handshake = await probeTemporalTls(target(tls));
    assert.ok(!handshake.ok);
    // Node's TLS server closes without the alert Go's sends (the cluster tier sees "unknown CA" from the real one).
    assert.match(handshake.problem, /^wrong client certificate: the server/);
  });

  it('an expired client certificate is named before any connection is tried', async () => {
    const tls = {
      ...goodTls(),
      clientCertPem: pem(fixture.expiredClient.certFile),
      clientKeyPem: pem(fixture.expiredClient.keyFile),
    };
    const handshake = await probeTemporalTls(target(tls));
    assert.ok(!handshake.ok);
    assert.match(handshake.problem, /^the client certificate \(CN=qbsync-expired\) expired on \d{4}-/);
  });

  it('a key that belongs to another certificate is named', async () => {
    const handshake = await probeTemporalTls(target({ ...goodTls(), clientKeyPem: pem(fixture.rogueClient.keyFile) }));
    assert.ok(!handshake.ok);
    assert.equal(handshake.problem, 'the client key does not belong to the client certificate');
  });

  it('no client certificate for a server that requires one', async () => {
    const handshake = await probeTemporalTls(
      target({ serverCaPem: pem(fixture.caFile), serverName: fixture.serverName }),
    );
    assert.ok(!handshake.ok);
    assert.match(handshake.problem, /^the server requires a client certificate \(mutual TLS\)/);
  });

  it('a server name the certificate does not carry', async () => {
    const handshake = await probeTemporalTls(target({ ...goodTls(), serverName: 'elsewhere.example.com' }));
    assert.ok(!handshake.ok);
    assert.match(handshake.problem, /does not name this host.*temporal\.tls\.serverName/);
  });

  it('TLS configured against a plain-text port', async () => {
    const handshake = await probeTemporalTls({ address: plainAddress, namespace: 'default', tls: goodTls() });
    assert.ok(!handshake.ok);
    assert.match(handshake.problem, /does not speak TLS/);
  });

  it('the client and the worker connection fail with the handshake verdict, not a transport error', async () => {
    const rogue = target({
      ...goodTls(),
      clientCertPem: pem(fixture.rogueClient.certFile),
      clientKeyPem: pem(fixture.rogueClient.keyFile),
    });
    await assert.rejects(
      connectTemporalClient(rogue, { connectTimeout: '3 seconds' }),
      (error: unknown) =>
        error instanceof TemporalConnectionError &&
        error.message.startsWith(`Temporal at ${address}: wrong client certificate`),
    );
    const unknownCa = target({ ...goodTls(), serverCaPem: pem(fixture.rogueCaFile) });
    await assert.rejects(
      connectTemporalWorker(unknownCa),
      (error: unknown) =>
        error instanceof TemporalConnectionError && error.message.startsWith(`Temporal at ${address}: unknown CA`),
    );
  });
});
