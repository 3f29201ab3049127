import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, type RuntimeOptions } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  syncConnection,
  syncEntity,
  syncOutcome,
  syncSourceId,
  syncSourceIds,
  syncTargetId,
} from '../../src/workflows/searchAttributes';

let runtimeInstalled = false;

/** Path of the Temporal CLI: the one `npm test` found or built (TEMPORAL_CLI), else the project's own build, else PATH. */
export function temporalCliPath(): string {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const built = join(__dirname, '..', '..', '.tools', 'bin', 'temporal');
  if (existsSync(built)) return built;
  return execFileSync('node', [join(__dirname, '..', '..', 'scripts', 'temporal-cli.mjs'), '--print-path'], {
    encoding: 'utf8',
  }).trim();
}

/**
 * A real Temporal dev server on a free port, with the project's search attributes registered. `runtime` replaces the
 * test runtime (WARN to the console) for the whole process; only the first call of a process installs one.
 */
export async function startTestTemporal(runtime?: RuntimeOptions): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install(runtime ?? { logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: [syncConnection, syncEntity, syncSourceId, syncTargetId, syncOutcome, syncSourceIds],
    },
  });
}
