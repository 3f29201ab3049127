import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificates {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

/** A throwaway CA and a 127.0.0.1/localhost server certificate it signed, so tests exercise real TLS trust. */
export function makeTestCertificates(): TestCertificates {
  const caKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serverKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caPrivate = forge.pki.privateKeyFromPem(caKeys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const caPublic = forge.pki.publicKeyFromPem(caKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serverPublic = forge.pki.publicKeyFromPem(
    serverKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );

  const now = new Date();
  const later = new Date(now.getTime() + 24 * 3600 * 1000);
  const earlier = new Date(now.getTime() - 3600 * 1000);

  const ca = forge.pki.createCertificate();
  ca.publicKey = caPublic;
  ca.serialNumber = '01';
  ca.validity.notBefore = earlier;
  ca.validity.notAfter = later;
  const caName = [{ name: 'commonName', value: 'dataverse-client test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caPrivate, forge.md.sha256.create());

  const server = forge.pki.createCertificate();
  server.publicKey = serverPublic;
  server.serialNumber = '02';
  server.validity.notBefore = earlier;
  server.validity.notAfter = later;
  server.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
  server.setIssuer(caName);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
  ]);
  server.sign(caPrivate, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
