import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';

/**
 * The one way every process reaches Temporal (worker, gateway, each `qbsync` command): the address plus, when the
 * deployment says so, TLS (server CA, client certificate for mutual TLS, server name) and an API key, as Temporal Cloud
 * and secured clusters require. A refused connection is explained by the TLS handshake's own verdict, so an operator
 * reads "the server does not trust the client certificate" rather than a transport error.
 *
 * Certificates are read when a connection is made: after replacing them, restart the worker and gateway (one at a time;
 * the other replica carries on). API keys are resolved the same way.
 */

/** PEM texts already resolved from files or secret references. */
export interface TemporalTls {
  serverCaPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /** The name the server's certificate must carry, when it is not the address's host. */
  serverName?: string;
}

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Undefined: plain text (the local dev server); `{}`: TLS with the system's CAs (Temporal Cloud with an API key). */
  tls?: TemporalTls;
  apiKey?: string;
}

/** A refused or failed connection, with the cause in words an operator can act on. */
export class TemporalConnectionError extends Error {
  override readonly name = 'TemporalConnectionError';
}

function tlsOption(target: TemporalTarget): ConnectionOptions['tls'] {
  const tls = target.tls ?? (target.apiKey !== undefined ? {} : undefined);
  if (!tls) return undefined;
  return {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.serverCaPem ? { serverRootCACertificate: Buffer.from(tls.serverCaPem) } : {}),
    ...(tls.clientCertPem && tls.clientKeyPem
      ? { clientCertPair: { crt: Buffer.from(tls.clientCertPem), key: Buffer.from(tls.clientKeyPem) } }
      : {}),
  };
}

function clientConnectionOptions(target: TemporalTarget): ConnectionOptions {
  const tls = tlsOption(target);
  return {
    address: target.address,
    ...(tls ? { tls } : {}),
    ...(target.apiKey !== undefined ? { apiKey: target.apiKey } : {}),
  };
}

export function workerConnectionOptions(target: TemporalTarget): NativeConnectionOptions {
  const tls = tlsOption(target);
  return {
    address: target.address,
    ...(tls ? { tls } : {}),
    ...(target.apiKey !== undefined ? { apiKey: target.apiKey } : {}),
  };
}

/** A client connection (gateway, `qbsync`, the worker's own client), or a `TemporalConnectionError` naming the cause. */
export async function connectTemporalClient(
  target: TemporalTarget,
  options: { connectTimeout?: ConnectionOptions['connectTimeout'] } = {},
): Promise<Connection> {
  try {
    return await Connection.connect({ ...clientConnectionOptions(target), ...options });
  } catch (error) {
    throw await explainConnectFailure(target, error);
  }
}

/** The worker's connection (the SDK's native one), or a `TemporalConnectionError` naming the cause. */
export async function connectTemporalWorker(target: TemporalTarget): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(workerConnectionOptions(target));
  } catch (error) {
    throw await explainConnectFailure(target, error);
  }
}

async function explainConnectFailure(target: TemporalTarget, error: unknown): Promise<TemporalConnectionError> {
  const detail = error instanceof Error ? error.message : String(error);
  if (target.tls || target.apiKey !== undefined) {
    const handshake = await probeTemporalTls(target);
    if (!handshake.ok) {
      return new TemporalConnectionError(`Temporal at ${target.address}: ${handshake.problem}`);
    }
  }
  return new TemporalConnectionError(`Temporal is not reachable at ${target.address} (${detail})`);
}

/** What a TLS handshake with the frontend showed: who the server is, and whom it accepted us as. */
export type TlsHandshake =
  | {
      ok: true;
      protocol: string;
      /** Subject and issuer of the certificate the server presented. */
      server: { subject: string; issuer: string; validTo: string };
      /** The identity the server verified: our client certificate's subject, if we presented one. */
      client: { subject: string; validTo: string } | undefined;
    }
  | { ok: false; problem: string; code: string };

/** Problems the local files show before any handshake: a certificate out of its dates, a key of another certificate. */
export function checkClientCertificate(tls: TemporalTls, now: Date = new Date()): string | undefined {
  if (!tls.clientCertPem) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(tls.clientCertPem);
  } catch {
    return 'the client certificate is not a PEM certificate';
  }
  if (now > new Date(cert.validTo)) {
    return `the client certificate (${subjectOf(cert)}) expired on ${new Date(cert.validTo).toISOString()}; renew it`;
  }
  if (now < new Date(cert.validFrom)) {
    return `the client certificate (${subjectOf(cert)}) is not valid before ${new Date(cert.validFrom).toISOString()}`;
  }
  if (tls.clientKeyPem) {
    try {
      if (!cert.checkPrivateKey(createPrivateKey(tls.clientKeyPem))) {
        return 'the client key does not belong to the client certificate';
      }
    } catch {
      return 'the client key is not a PEM private key';
    }
  }
  return undefined;
}

function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

// OpenSSL's verdicts on the server's certificate (ours to judge) and the alerts a server sends about ours.
const SERVER_CERT_CAUSES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown CA',
  CERT_SIGNATURE_FAILURE: 'unknown CA',
};

function describeHandshakeError(error: NodeJS.ErrnoException, target: TemporalTarget): string {
  const code = error.code ?? '';
  const caSource = target.tls?.serverCaPem ? 'the configured server CA' : "this system's trusted CAs";
  if (SERVER_CERT_CAUSES[code]) {
    return `unknown CA: the server's certificate is not signed by ${caSource} (${code})`;
  }
  if (code === 'CERT_HAS_EXPIRED') return `the server's certificate has expired (${code})`;
  if (code === 'CERT_NOT_YET_VALID') return `the server's certificate is not valid yet (${code})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the server's certificate does not name this host: ${error.message}; set temporal.tls.serverName to a name it carries`;
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA') {
    return 'wrong client certificate: the server does not trust the CA that signed it (alert: unknown CA)';
  }
  if (code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') {
    return 'expired client certificate: the server refused it as expired (alert: certificate expired)';
  }
  if (code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || code === 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR') {
    return `wrong client certificate: the server refused it (${code})`;
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
    return 'the server requires a client certificate (mutual TLS): set temporal.tls.clientCert and clientKey';
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return 'the server does not speak TLS on this port: remove temporal.tls, or check the address';
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
    return `not reachable (${code})`;
  }
  return `the TLS handshake failed: ${error.message}`;
}

// A client's HTTP/2 preface and an empty SETTINGS frame: with TLS 1.3 the server judges the client's certificate after
// the client considers the handshake done, so only its answer to the first bytes shows whether it accepted us.
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/**
 * Shakes hands with the frontend as the connection would (same CA, client certificate and server name) and waits for
 * the server's first HTTP/2 frame. Names the cause when it fails; never throws.
 */
export async function probeTemporalTls(target: TemporalTarget, timeoutMs = 5000): Promise<TlsHandshake> {
  const tls = target.tls ?? {};
  const local = checkClientCertificate(tls);
  if (local) return { ok: false, problem: local, code: 'LOCAL_CERTIFICATE' };
  const { host, port } = splitAddress(target.address);
  return new Promise<TlsHandshake>((resolveProbe) => {
    let settled = false;
    const finish = (result: TlsHandshake): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveProbe(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, problem: `no TLS answer within ${timeoutMs} ms`, code: 'ETIMEDOUT' }),
      timeoutMs,
    );
    const socket: TLSSocket = tlsConnect({
      host,
      port,
      servername: tls.serverName ?? (/^[\d.]+$|:/.test(host) ? undefined : host),
      ALPNProtocols: ['h2'],
      ...(tls.serverCaPem ? { ca: tls.serverCaPem } : {}),
      ...(tls.clientCertPem && tls.clientKeyPem ? { cert: tls.clientCertPem, key: tls.clientKeyPem } : {}),
      // With a server name override the certificate must carry that name rather than the address's host.
      ...(tls.serverName
        ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tls.serverName!, cert) }
        : {}),
    });
    let secured = false;
    socket.once('secureConnect', () => {
      secured = true;
      socket.write(HTTP2_PREFACE);
    });
    socket.once('data', () => {
      const peer = socket.getPeerX509Certificate();
      const own = socket.getX509Certificate();
      finish({
        ok: true,
        protocol: socket.getProtocol() ?? 'TLS',
        server: peer
          ? { subject: subjectOf(peer), issuer: peer.issuer.split('\n').join(', '), validTo: peer.validTo }
          : { subject: '(none)', issuer: '(none)', validTo: '' },
        client: own ? { subject: subjectOf(own), validTo: own.validTo } : undefined,
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, problem: describeHandshakeError(error, target), code: error.code ?? 'ERROR' }),
    );
    // A server that closes once our side of the handshake is done, without a word of HTTP/2, refused our certificate
    // (some TLS stacks close without sending the alert that would say why).
    const presented = Boolean(tls.clientCertPem && tls.clientKeyPem);
    socket.once('close', () =>
      finish({
        ok: false,
        problem: !secured
          ? 'the server closed the connection during the handshake'
          : presented
            ? 'wrong client certificate: the server closed the connection instead of accepting it'
            : 'the server requires a client certificate (mutual TLS): set temporal.tls.clientCert and clientKey',
        code: 'ECONNRESET',
      }),
    );
  });
}

/** Lines for `qbsync check`: the handshake and the identity the server accepted, or the cause of the refusal. */
export async function describeTemporalHandshake(target: TemporalTarget): Promise<{ ok: boolean; lines: string[] }> {
  if (!target.tls && target.apiKey === undefined) {
    return { ok: true, lines: [`Temporal ${target.address}: plain text (no temporal.tls configured)`] };
  }
  const handshake = await probeTemporalTls(target);
  if (!handshake.ok) return { ok: false, lines: [`Temporal ${target.address}: ${handshake.problem}`] };
  return {
    ok: true,
    lines: [
      `Temporal ${target.address}: ${handshake.protocol} handshake accepted`,
      `  server certificate  ${handshake.server.subject} (issued by ${handshake.server.issuer}, valid to ${handshake.server.validTo})`,
      handshake.client
        ? `  client identity     ${handshake.client.subject} (valid to ${handshake.client.validTo})`
        : `  client identity     none presented${target.apiKey !== undefined ? ' (API key authentication)' : ''}`,
    ],
  };
}
