import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { failureConverterPath } from '../codec/dataConverter';

/**
 * The workflows as a worker runs them: one webpack bundle of the workflow code and the failure converter the workflow
 * sandbox needs. Bundling holds a few hundred MiB for some seconds; done by the worker at each start it set the worker
 * process's peak (455 MiB of it before the first task at scale 1, issue 15). So it is done ahead, in another process:
 * `npm run build` writes lib/workflow-bundle.js, which lib/worker.js runs; the chaos run and the benchmark write one per
 * run in their own process and hand it to their workers.
 */

/** The workflows beside this module: lib/workflows in the build, src/workflows when run from source with tsx. */
const workflowsPath = require.resolve('../workflows');

/** Where `npm run build` writes the bundle: lib/workflow-bundle.js, beside lib/worker.js. */
export const builtWorkflowBundlePath = join(__dirname, '..', 'workflow-bundle.js');

/** Bundles the workflows in this process and writes the bundle to `path`; returns `path`. */
export async function writeWorkflowBundle(path: string): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: new DefaultLogger('WARN') });
  writeFileSync(path, code);
  return path;
}

function modifiedMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * The bundle a worker runs: `WORKFLOW_BUNDLE_PATH` when set, else the build's when it is at least as new as the
 * compiled workflows beside it. Undefined: the worker bundles the workflows itself at start. That is the case from
 * source (tsx: no build writes src/workflow-bundle.js, so an edit is never hidden behind an older build), and after a
 * bare `tsc -p tsconfig.build.json` rewrote the workflows without the bundle: running that bundle would run older
 * workflow code than the activities beside it.
 */
export function workflowBundleToRun(
  env: NodeJS.ProcessEnv = process.env,
  built: { bundlePath: string; workflowsPath: string } = { bundlePath: builtWorkflowBundlePath, workflowsPath },
): { codePath: string } | undefined {
  if (env.WORKFLOW_BUNDLE_PATH) return { codePath: env.WORKFLOW_BUNDLE_PATH };
  const bundled = modifiedMs(built.bundlePath);
  const compiled = modifiedMs(built.workflowsPath);
  if (bundled === undefined || compiled === undefined || bundled < compiled) return undefined;
  return { codePath: built.bundlePath };
}

// `npm run build`, after tsc: node lib/temporal/workflowBundle.js.
if (require.main === module) {
  writeWorkflowBundle(builtWorkflowBundlePath).then(
    (path) => console.log(`workflows bundled: ${path}`),
    (error: unknown) => {
      console.error(
        `bundling the workflows failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
