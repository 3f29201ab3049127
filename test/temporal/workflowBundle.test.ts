import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { builtWorkflowBundlePath, workflowBundleToRun } from '../../src/temporal/workflowBundle';

const root = resolve(__dirname, '../..');

/** A build's bundle and compiled workflows, written `bundleAgeS` seconds before or after the workflows. */
function builtAt(bundleAgeS: number | undefined): { bundlePath: string; workflowsPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qbsync-bundle-'));
  const workflowsPath = join(dir, 'index.js');
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(workflowsPath, '');
  const compiledAt = new Date('2026-01-01T12:00:00Z');
  utimesSync(workflowsPath, compiledAt, compiledAt);
  if (bundleAgeS !== undefined) {
    writeFileSync(bundlePath, '');
    const bundledAt = new Date(compiledAt.getTime() - bundleAgeS * 1000);
    utimesSync(bundlePath, bundledAt, bundledAt);
  }
  return { bundlePath, workflowsPath };
}

describe('the workflow bundle a worker runs', () => {
  it('is the build’s when it is as new as the compiled workflows or newer', () => {
    const after = builtAt(-5);
    assert.deepEqual(workflowBundleToRun({}, after), { codePath: after.bundlePath });
    const sameTime = builtAt(0);
    assert.deepEqual(workflowBundleToRun({}, sameTime), { codePath: sameTime.bundlePath });
  });

  it('is none (the worker bundles at start) without a built bundle, or with one older than the workflows', () => {
    assert.equal(workflowBundleToRun({}, builtAt(undefined)), undefined);
    // tsc rewrote the workflows after the bundle: running it would run older workflow code than the activities.
    assert.equal(workflowBundleToRun({}, builtAt(60)), undefined);
  });

  it('is WORKFLOW_BUNDLE_PATH when set, built or not', () => {
    assert.deepEqual(workflowBundleToRun({ WORKFLOW_BUNDLE_PATH: '/run/bundle.js' }, builtAt(-5)), {
      codePath: '/run/bundle.js',
    });
    assert.deepEqual(workflowBundleToRun({ WORKFLOW_BUNDLE_PATH: '/run/bundle.js' }, builtAt(undefined)), {
      codePath: '/run/bundle.js',
    });
  });

  it('is written by `npm run build` where the built worker looks for it: beside lib/worker.js', () => {
    const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const { rootDir, outDir } = (
      JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as {
        compilerOptions: { rootDir: string; outDir: string };
      }
    ).compilerOptions;
    const [compile, bundle, ...rest] = scripts.build!.split(' && ');
    assert.equal(compile, 'tsc -p tsconfig.build.json');
    assert.deepEqual(rest, []);
    // The step after tsc runs the compiled src/temporal/workflowBundle.ts, which writes builtWorkflowBundlePath.
    const script = /^node (\S+)$/.exec(bundle ?? '')?.[1];
    assert.ok(script, `the build's second step runs no script: ${bundle}`);
    const source = join(root, rootDir, relative(outDir, script)).replace(/\.js$/, '.ts');
    assert.equal(source, join(root, 'src', 'temporal', 'workflowBundle.ts'));
    // The module sits in src/temporal from source, in lib/temporal compiled: the bundle lands beside the worker,
    // lib/workflow-bundle.js, the path docs/deployment.md names (src/workflow-bundle.js from source, which no step writes).
    assert.equal(
      join(outDir, relative(join(root, rootDir), builtWorkflowBundlePath)),
      join('lib', 'workflow-bundle.js'),
    );
  });
});
