#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadDeployment, type DeploymentConnection } from '../config/deployment';
import { runtime } from '../config/runtime';
import { logger } from '../observability/logger';
import { auditCommand } from './auditCommand';
import { checkCommand } from './checkCommand';
import { failedCommand } from './failedCommand';
import { dataverseTarget, provision } from './provisionCommand';
import { writeQwc } from './qwcCommand';
import { reconcileCommand } from './reconcileCommand';
import { replayCommand } from './replayCommand';
import { scheduleCommand } from './scheduleCommand';
import { secretsCommand } from './secretsCommand';

/** `qbsync`: the operator command. Every sub-command works against the sandbox and real systems alike. */

function findConnection(name: string, connections: readonly DeploymentConnection[]): DeploymentConnection {
  const found = connections.find((c) => c.name === name);
  if (!found) {
    throw new InvalidArgumentError(
      `No connection named "${name}". Known connections: ${connections.map((c) => c.name).join(', ')}.`,
    );
  }
  return found;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of minutes, at least 1');
  return n;
}

export function buildProgram(): Command {
  const program = new Command('qbsync')
    .description('Operate the QuickBooks Desktop ⇄ Dynamics 365 Sales connector.')
    .option('--data-dir <dir>', 'where qbsync.yaml (unless QBSYNC_CONFIG), secrets and keys live', runtime.dataDir)
    .showHelpAfterError();

  program
    .command('connections')
    .description('List the configured connections (one per QuickBooks company file).')
    .action(() => {
      const { dataDir } = program.opts<{ dataDir: string }>();
      for (const c of loadDeployment({ dataDir: resolve(dataDir) }).connections) {
        console.log(`${c.name}\t${c.companyFileLabel}\tQBWC user ${c.qbwc.userName}`);
      }
    });

  program
    .command('qwc')
    .description('Write the .QWC file an operator adds to the QuickBooks Web Connector for one connection.')
    .requiredOption('-c, --connection <name>', 'connection name')
    .option('-o, --out <file>', 'write to this file instead of standard output')
    .option(
      '--gateway-url <url>',
      "public URL of the gateway (https:// unless it is localhost; default: the configuration file's gateway.publicUrl)",
    )
    .option('--every <minutes>', 'how often QBWC runs the connection', positiveInt, 60)
    .action((opts: { connection: string; out?: string; gatewayUrl?: string; every: number }) => {
      const { dataDir } = program.opts<{ dataDir: string }>();
      const deployment = loadDeployment({ dataDir: resolve(dataDir) });
      const connection = findConnection(opts.connection, deployment.connections);
      const gatewayUrl = opts.gatewayUrl ?? deployment.gateway.publicUrl;
      const xml = writeQwc(connection, { gatewayUrl, runEveryMinutes: opts.every, out: opts.out });
      if (opts.out) console.error(`Wrote ${opts.out}`);
      else process.stdout.write(xml);
    });
  program
    .command('provision')
    .description(
      "Create the connector's columns and alternate keys in Dataverse (idempotent) and report the product-state setting.",
    )
    .option(
      '--terms <names...>',
      'QuickBooks terms to add as payment-terms options (the sync itself may not add options)',
    )
    .option('--customer-types <names...>', 'QuickBooks customer types to add as account category options')
    .action(async (opts: { terms?: string[]; customerTypes?: string[] }) => {
      const { dataDir } = program.opts<{ dataDir: string }>();
      const report = await provision(dataverseTarget(resolve(dataDir)), logger.child({ component: 'provisioning' }), {
        terms: opts.terms ?? [],
        customerTypes: opts.customerTypes ?? [],
      });
      console.log(`created:  ${report.created.length ? report.created.join(', ') : '(nothing)'}`);
      console.log(`existing: ${report.existing.length ? report.existing.join(', ') : '(nothing)'}`);
      console.log(
        `products are created ${report.createProductsWithoutParentInActiveState ? 'Active' : 'as Draft (the connector publishes them)'}`,
      );
      const pending = Object.entries(report.keysNotActive);
      if (pending.length) console.log(`keys still indexing: ${pending.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      for (const [key, reason] of Object.entries(report.keysFailed)) console.log(`key ${key} FAILED: ${reason}`);
      if (report.optionsAdded.length) console.log(`options added: ${report.optionsAdded.join(', ')}`);
      if (report.optionsExisting.length) console.log(`options existing: ${report.optionsExisting.join(', ')}`);
      if (report.optionsRefused.length) {
        console.log(
          `options REFUSED (the role lacks prvWriteOptionSet; run provisioning as System Customizer or System Administrator): ${report.optionsRefused.join(', ')}`,
        );
      }
      if (Object.keys(report.keysFailed).length > 0 || report.optionsRefused.length > 0) process.exitCode = 1;
    });
  program.addCommand(checkCommand(() => program.opts<{ dataDir: string }>().dataDir));
  program.addCommand(secretsCommand(() => program.opts<{ dataDir: string }>().dataDir));
  program.addCommand(reconcileCommand(() => program.opts<{ dataDir: string }>().dataDir));
  for (const operatorCommand of [scheduleCommand, failedCommand, replayCommand, auditCommand]) {
    program.addCommand(operatorCommand(() => program.opts<{ dataDir: string }>().dataDir));
  }
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`qbsync: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
