import { Client } from '@temporalio/client';
import { Command } from 'commander';
import { resolve } from 'node:path';
import { loadConnectorDataConverter } from '../codec/dataConverter';
import { configFileEnvVariable } from '../config/configFile';
import { loadDeployment } from '../config/deployment';
import { connectTemporalClient } from '../temporal/connect';
import { runConnectionCheck, type CheckArea, type CheckFinding, type ConnectionCheckDeps } from './connectionCheck';

export interface CheckCommandIo {
  out: (text: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const processIo: CheckCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (line) => console.error(line),
  env: process.env,
};

const AREA_TITLES: Record<CheckArea, string> = {
  configuration: 'Configuration',
  temporal: 'Temporal',
  dataverse: 'Dataverse',
  'dataverse-probes': 'Dataverse write probes (what the connector assumes, tried on this organisation)',
  'company-file': 'Company files',
};

/** The findings as an operator reads them: grouped by area, one line each, what to do under each failure. */
export function formatFindings(findings: readonly CheckFinding[]): string {
  const lines: string[] = [];
  for (const area of Object.keys(AREA_TITLES) as CheckArea[]) {
    const inArea = findings.filter((f) => f.area === area);
    if (inArea.length === 0) continue;
    lines.push(AREA_TITLES[area]);
    for (const finding of inArea) {
      lines.push(`  ${finding.ok ? 'ok  ' : 'FAIL'}  ${finding.check}: ${finding.detail}`);
      if (!finding.ok && finding.fix) lines.push(`        what to do: ${finding.fix}`);
    }
  }
  const failed = findings.filter((f) => !f.ok).length;
  lines.push(failed === 0 ? `All ${findings.length} checks passed.` : `${failed} of ${findings.length} checks failed.`);
  return `${lines.join('\n')}\n`;
}

/** The `--json` document: `ok` is the exit code's verdict; `findings` in the order they were checked. */
export function findingsDocument(findings: readonly CheckFinding[]): { ok: boolean; findings: CheckFinding[] } {
  return { ok: findings.every((f) => f.ok), findings: [...findings] };
}

/** The check's surroundings from the deployment (configuration file or sandbox) of `dataDir`. */
function checkDeps(dataDir: string, env: NodeJS.ProcessEnv): ConnectionCheckDeps {
  const deployment = loadDeployment({ dataDir, env });
  // Throws naming the field (a TLS file that cannot be read, an unresolved API key): nothing can be checked then.
  const target = deployment.temporalTarget();
  return {
    temporal: target,
    withTemporal: async (work) => {
      const connection = await connectTemporalClient(target, { connectTimeout: '5 seconds' });
      try {
        const client = new Client({
          connection,
          namespace: target.namespace,
          dataConverter: loadConnectorDataConverter(dataDir, env),
        });
        return await work(client);
      } finally {
        await connection.close();
      }
    },
    dataverseTarget: () => deployment.dataverseTarget(),
    gateway: deployment.gateway,
    connections: deployment.connections,
  };
}

/**
 * `qbsync check [--config file] [--json]`: exit 0 when every check passed, 1 otherwise (also when the configuration
 * itself cannot be read: that message names the field).
 */
export function checkCommand(dataDir: () => string, io: CheckCommandIo = processIo): Command {
  return new Command('check')
    .description(
      'Check every link the connector needs (Temporal, Dataverse, each company file) and say what to do about each failure.',
    )
    .option(
      '--config <file>',
      `configuration file to check (default: ${configFileEnvVariable}, else <data-dir>/qbsync.yaml, else the sandbox)`,
    )
    .option('--json', 'print the findings as one JSON document')
    .option(
      '--probe-writes',
      'also try, on this organisation, the Dataverse behaviours the connector relies on (creates and removes a few rows named "qbsync probe"; for a trial organisation before the first deployment)',
    )
    .action(async (opts: { config?: string; json?: boolean; probeWrites?: boolean }) => {
      const env = opts.config ? { ...io.env, [configFileEnvVariable]: resolve(opts.config) } : io.env;
      let deps: ConnectionCheckDeps;
      try {
        deps = checkDeps(resolve(dataDir()), env);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (opts.json) {
          io.out(
            `${JSON.stringify(findingsDocument([{ area: 'configuration', check: 'configuration', ok: false, detail: message }]), null, 2)}\n`,
          );
        } else io.err(`qbsync check: ${message}`);
        process.exitCode = 1;
        return;
      }
      const findings = await runConnectionCheck({ ...deps, ...(opts.probeWrites ? { probeWrites: true } : {}) });
      io.out(opts.json ? `${JSON.stringify(findingsDocument(findings), null, 2)}\n` : formatFindings(findings));
      process.exitCode = findings.every((f) => f.ok) ? 0 : 1;
    });
}
