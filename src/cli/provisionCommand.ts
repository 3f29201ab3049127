import type { Logger } from 'pino';
import { CHOICE_COLUMNS, insertChoiceOptions, type AlignedChoice } from '../dataverse/choiceOptions';
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

/** QuickBooks names to add as Dynamics options at provisioning, per aligned choice. */
export type ChoiceOptionsToAdd = Partial<Record<AlignedChoice, readonly string[]>>;

export interface ProvisionReport extends ProvisioningReport {
  /** Options this run added, and those already there, as `kind: label`. */
  optionsAdded: string[];
  optionsExisting: string[];
  /** Options Dataverse refused for want of the option-set privilege (provisioning runs without an admin's role). */
  optionsRefused: string[];
}

/**
 * Creates the connector's columns and keys, then the choice options QuickBooks names need (the sync's least-privilege
 * role cannot add options, so a term such as "Net 15" is added here, under the administrator's role provisioning
 * runs with; a record that met a missing option names this command).
 */
export async function provision(
  target: DataverseTarget,
  log: Logger,
  choices: ChoiceOptionsToAdd = {},
): Promise<ProvisionReport> {
  const tokenProvider = dataverseTokenProvider(target, 'provisioning');
  const client = new DataverseClient({
    connection: 'provisioning',
    webApiUrl: target.webApiUrl,
    tokenProvider,
    caPem: target.caPem,
    governor: new RateGovernor(),
  });
  try {
    const report = await provisionDataverse(client, { log });
    const options = { optionsAdded: [] as string[], optionsExisting: [] as string[], optionsRefused: [] as string[] };
    for (const kind of Object.keys(CHOICE_COLUMNS) as AlignedChoice[]) {
      const labels = choices[kind] ?? [];
      if (labels.length === 0) continue;
      const { added, refused } = await insertChoiceOptions(client, kind, labels);
      options.optionsAdded.push(...added.map((l) => `${kind}: ${l}`));
      options.optionsRefused.push(...refused.map((l) => `${kind}: ${l}`));
      options.optionsExisting.push(
        ...labels.filter((l) => !added.includes(l) && !refused.includes(l)).map((l) => `${kind}: ${l}`),
      );
    }
    return { ...report, ...options };
  } finally {
    await client.close();
    await tokenProvider.close();
  }
}
