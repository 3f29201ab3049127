import type { Logger } from 'pino';
import { DataverseClient } from '../dataverse/client';
import { provisionDataverse, type ProvisioningReport } from '../dataverse/provisioning';
import { RateGovernor } from '../dataverse/rateGovernor';
import {
  dataverseTargetFromEnvironment,
  hasConfigFile,
  loadDeployment,
  type DataverseTarget,
} from '../config/deployment';
import { dataverseTokenProvider } from '../dataverse/connect';

export type { DataverseTarget } from '../config/deployment';

/**
 * The organisation this deployment serves: the configuration file's `dataverse` section when there is a file, else
 * DATAVERSE_URL and its companions, else the sandbox of `npm start` (see `loadDeployment`).
 */
export function dataverseTarget(dataDir: string, env: NodeJS.ProcessEnv = process.env): DataverseTarget {
  if (hasConfigFile(dataDir, env)) return loadDeployment({ dataDir, env }).dataverseTarget();
  // Without a file, the sandbox's connections.json is not needed to reach Dataverse (provisioning runs before it).
  return dataverseTargetFromEnvironment(dataDir, env);
}

export async function provision(target: DataverseTarget, log: Logger): Promise<ProvisioningReport> {
  const tokenProvider = dataverseTokenProvider(target, 'provisioning');
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
