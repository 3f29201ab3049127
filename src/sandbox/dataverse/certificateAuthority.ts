import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';

export interface SandboxCertificates {
  caCertPath: string;
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

const CA_CERT_FILE = 'sandbox-ca.pem';
const CA_KEY_FILE = 'sandbox-ca-key.pem';
const SERVER_CERT_FILE = 'sandbox-server.pem';
const SERVER_KEY_FILE = 'sandbox-server-key.pem';

/** A certificate this close to expiry is replaced, so a long test run never straddles the expiry instant. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

/**
 * RSA generation in forge is pure JS and takes seconds; node's native generator takes milliseconds, and forge only
 * needs the PEM to sign certificates.
 */
function generateRsaKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  privatePem: string;
} {
  const pair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(pair.privateKey),
    publicKey: forge.pki.publicKeyFromPem(pair.publicKey),
    privatePem: pair.privateKey,
  };
}

/** Positive serial numbers: a leading 0x01 byte keeps the DER integer from being read as negative. */
function serialNumber(): string {
  return `01${randomBytes(15).toString('hex')}`;
}

function createCa(): { certPem: string; keyPem: string } {
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 24 * 60 * 60 * 1000);
  const subject = [
    { name: 'commonName', value: 'qb-d365-connector sandbox CA' },
    { name: 'organizationName', value: 'qb-d365-connector sandbox' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function createServerCertificate(caCertPem: string, caKeyPem: string): { certPem: string; keyPem: string } {
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  // Under the 825-day ceiling some TLS stacks impose on server certificates.
  cert.validity.notAfter = new Date(Date.now() + 800 * 24 * 60 * 60 * 1000);
  cert.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function usable(certPem: string | undefined, issuerPem?: string): boolean {
  if (certPem === undefined) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    if (Date.parse(cert.validFrom) > Date.now()) return false;
    if (issuerPem !== undefined && !cert.verify(new X509Certificate(issuerPem).publicKey)) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * The sandbox serves HTTPS because msal-node refuses non-https authorities; clients trust this CA explicitly.
 * Files are reused across runs so a CA a developer imported once stays valid.
 */
export async function ensureSandboxCertificates(dir: string): Promise<SandboxCertificates> {
  await mkdir(dir, { recursive: true });
  const caCertPath = path.join(dir, CA_CERT_FILE);
  const caKeyPath = path.join(dir, CA_KEY_FILE);
  const serverCertPath = path.join(dir, SERVER_CERT_FILE);
  const serverKeyPath = path.join(dir, SERVER_KEY_FILE);

  let caCertPem = await readIfPresent(caCertPath);
  let caKeyPem = await readIfPresent(caKeyPath);
  let caRenewed = false;
  if (!usable(caCertPem) || caKeyPem === undefined) {
    const ca = createCa();
    caCertPem = ca.certPem;
    caKeyPem = ca.keyPem;
    await writeAtomically(caKeyPath, caKeyPem, 0o600);
    await writeAtomically(caCertPath, caCertPem, 0o644);
    caRenewed = true;
  }
  const caPem: string = caCertPem ?? '';

  let certPem = await readIfPresent(serverCertPath);
  let keyPem = await readIfPresent(serverKeyPath);
  if (caRenewed || !usable(certPem, caPem) || keyPem === undefined) {
    const server = createServerCertificate(caPem, caKeyPem);
    certPem = server.certPem;
    keyPem = server.keyPem;
    await writeAtomically(serverKeyPath, keyPem, 0o600);
    await writeAtomically(serverCertPath, certPem, 0o644);
  }
  return { caCertPath, caCertPem: caPem, certPem: certPem ?? '', keyPem };
}
