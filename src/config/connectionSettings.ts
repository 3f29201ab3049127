import { existsSync } from 'node:fs';
import { configFilePath, loadConfigFile } from './configFile';
import { loadConnections } from './connections';
import { sandboxSyncSettings, type SyncSettings } from './syncSettings';

/**
 * Settings of every connection this deployment serves: from the configuration file when there is one, else the
 * sandbox defaults for the connections `npm start` wrote.
 */
export function loadSyncSettings(dataDir: string, env: NodeJS.ProcessEnv = process.env): Map<string, SyncSettings> {
  const path = configFilePath(dataDir, env);
  if (existsSync(path)) {
    const config = loadConfigFile(path);
    return new Map(config.connections.map((c) => [c.name, c.sync]));
  }
  return new Map(loadConnections(dataDir).map((c) => [c.name, sandboxSyncSettings(c.name)]));
}
