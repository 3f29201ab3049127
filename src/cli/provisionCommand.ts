import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DataverseClient } from '../dataverse/client';
import { provisionDataverse, type ProvisioningReport } from '../dataverse/provisioning';
import { RateGovernor } from '../dataverse/rateGovernor';
import { resolveSecret, SecretStore } from '../config/secrets';
import { DataverseTokenProvider } from '../dataverse/tokenProvider';

/** What provisioning needs to reach an organisation; the secret is read from the environment or the sandbox file. */
export interface DataverseTarget {
  environmentUrl: string;
  webApiUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authority?: string;
  caPem?: string;
}

/**
 * Real systems: DATAVERSE_URL, DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID and DATAVERSE_CLIENT_SECRET, or instead of the
 * last DATAVERSE_CLIENT_SECRET_REF=secret:<name> (the encrypted store). Otherwise the sandbox of `npm start`, from
 * `<dataDir>/sandbox/endpoints.json`, whose `clientSecretRef` points into the store.
 */
export function dataverseTarget(dataDir: string, env: NodeJS.ProcessEnv = process.env): DataverseTarget {
  if (env.DATAVERSE_URL) {
    const secretVariable = env.DATAVERSE_CLIENT_SECRET_REF ? 'DATAVERSE_CLIENT_SECRET_REF' : 'DATAVERSE_CLIENT_SECRET';
    const missing = ['DATAVERSE_TENANT_ID', 'DATAVERSE_CLIENT_ID', secretVariable].filter((k) => !env[k]);
    if (missing.length)
      throw new Error(`DATAVERSE_URL is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not.`);
    const environmentUrl = env.DATAVERSE_URL.replace(/\/+$/, '');
    return {
      environmentUrl,
      webApiUrl: `${environmentUrl}/api/data/v9.2/`,
      tenantId: env.DATAVERSE_TENANT_ID!,
      clientId: env.DATAVERSE_CLIENT_ID!,
      clientSecret: env.DATAVERSE_CLIENT_SECRET_REF
        ? resolveSecret(env.DATAVERSE_CLIENT_SECRET_REF, () => SecretStore.open(dataDir, env), env)
        : env.DATAVERSE_CLIENT_SECRET!,
    };
  }
  const path = join(dataDir, 'sandbox', 'endpoints.json');
  let endpoints: {
    dataverse: Omit<DataverseTarget, 'caPem' | 'clientSecret'> & {
      caCertPath: string;
      clientSecretRef?: string;
      /** Written in clear by sandboxes before the secret store existed. */
      clientSecret?: string;
    };
  };
  try {
    endpoints = JSON.parse(readFileSync(path, 'utf8')) as typeof endpoints;
  } catch {
    throw new Error(
      `No Dataverse configured: set DATAVERSE_URL (and tenant, client id, secret), or run \`npm start\` to create ${path}.`,
    );
  }
  const { clientSecretRef, clientSecret, ...dv } = endpoints.dataverse;
  const secret = clientSecretRef
    ? resolveSecret(clientSecretRef, () => SecretStore.open(dataDir, env), env)
    : clientSecret;
  if (!secret) throw new Error(`${path}: dataverse.clientSecretRef is missing; run \`npm start\` again to rewrite it.`);
  return { ...dv, clientSecret: secret, caPem: readFileSync(dv.caCertPath, 'utf8') };
}

export async function provision(target: DataverseTarget, log: Logger): Promise<ProvisioningReport> {
  const tokenProvider = new DataverseTokenProvider({
    connection: 'provisioning',
    tenantId: target.tenantId,
    clientId: target.clientId,
    clientSecret: target.clientSecret,
    environmentUrl: target.environmentUrl,
    authority: target.authority,
    caPem: target.caPem,
  });
  const client = new DataverseClient({
    connection: 'provisioning',
    webApiUrl: target.webApiUrl,
    tokenProvider,
    caPem: target.caPem,
    governor: new RateGovernor(),
  });
  try {
    return await provisionDataverse(client, { log });
  } finally {
    await client.close();
    await tokenProvider.close();
  }
}
