import { loadDeployment } from './deployment';
import { type SyncSettings } from './syncSettings';

/**
 * Settings of every connection this deployment serves: from the configuration file when there is one, else the
 * sandbox defaults for the connections `npm start` wrote.
 */
export function loadSyncSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): Map<string, SyncSettings> {
  return new Map(loadDeployment({ dataDir, env }).connections.map((c) => [c.name, c.sync]));
}
