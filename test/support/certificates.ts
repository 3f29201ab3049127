import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/** A certificate authority made for one test run, and the certificates it issues. */
export interface TestCa {
  certPem: string;
  keyPem: string;
  name: string;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

const DAY = 24 * 60 * 60 * 1000;

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; privatePem: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(pair.privateKey) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey) as forge.pki.rsa.PublicKey,
    privatePem: pair.privateKey,
  };
}

function serial(): string {
  return `01${randomBytes(15).toString('hex')}`;
}

function createTestCa(name: string): TestCa {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY);
  const subject = [{ name: 'commonName', value: name }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem, name };
}

/**
 * A leaf certificate: `server` for a frontend (names in `dnsNames`, 127.0.0.1 always), `client` for a connector
 * process, `both` for the cluster's own services, which present one certificate in either role.
 */
function issueCertificate(
  ca: TestCa,
  options: {
    commonName: string;
    role: 'server' | 'client' | 'both';
    dnsNames?: string[];
    notBefore?: Date;
    notAfter?: Date;
  },
): IssuedCertificate {
  const keys = keyPair();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 30 * DAY);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const server = options.role !== 'client';
  const client = options.role !== 'server';
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: server, clientAuth: client },
    ...(server
      ? [
          {
            name: 'subjectAltName',
            altNames: [{ type: 7, ip: '127.0.0.1' }, ...(options.dnsNames ?? []).map((value) => ({ type: 2, value }))],
          },
        ]
      : []),
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

/** Writes `<name>.pem` and `<name>-key.pem` into `dir`; returns their paths. */
function writeCertificate(
  dir: string,
  name: string,
  issued: IssuedCertificate | TestCa,
): { certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  writeFileSync(certFile, issued.certPem);
  writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

/**
 * Everything a mutual-TLS test needs: the cluster's CA and its server certificate (valid for `serverName` and
 * 127.0.0.1), a good client certificate, an expired one, and a client certificate from a CA the server does not know.
 */
export function mutualTlsFixture(dir: string, serverName = 'temporal.qbsync.test') {
  const ca = createTestCa('qbsync test cluster CA');
  const rogueCa = createTestCa('qbsync rogue CA');
  const caFile = writeCertificate(dir, 'ca', ca).certFile;
  const rogueCaFile = writeCertificate(dir, 'rogue-ca', rogueCa).certFile;
  const server = writeCertificate(
    dir,
    'server',
    issueCertificate(ca, { commonName: serverName, role: 'both', dnsNames: [serverName, 'localhost'] }),
  );
  const client = writeCertificate(dir, 'client', issueCertificate(ca, { commonName: 'qbsync-worker', role: 'client' }));
  const expiredClient = writeCertificate(
    dir,
    'expired-client',
    issueCertificate(ca, {
      commonName: 'qbsync-expired',
      role: 'client',
      notBefore: new Date(Date.now() - 10 * DAY),
      notAfter: new Date(Date.now() - DAY),
    }),
  );
  const rogueClient = writeCertificate(
    dir,
    'rogue-client',
    issueCertificate(rogueCa, { commonName: 'qbsync-rogue', role: 'client' }),
  );
  // A server certificate from the rogue CA: what a client trusting only the cluster's CA must refuse.
  const rogueServer = writeCertificate(
    dir,
    'rogue-server',
    issueCertificate(rogueCa, { commonName: serverName, role: 'server', dnsNames: [serverName, 'localhost'] }),
  );
  return { serverName, caFile, rogueCaFile, server, client, expiredClient, rogueClient, rogueServer };
}

/**
 * A self-signed certificate with its PKCS#8 key, as an admin uploads one to an app registration; `expired` ended a day
 * ago.
 */
export function selfSignedCertificate(
  name: string,
  options: { expired?: boolean } = {},
): { certPem: string; keyPem: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '0c';
  cert.validity.notBefore = new Date(Date.now() - 3 * 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + (options.expired ? -1 : 1) * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: name }]);
  cert.setIssuer([{ name: 'commonName', value: name }]);
  cert.sign(
    forge.pki.privateKeyFromPem(keys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    forge.md.sha256.create(),
  );
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
