import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startDataverseSandbox, type DataverseSandbox } from '../../src/sandbox/dataverse/server';
import { dataverseTarget, provision } from '../../src/cli/provisionCommand';

describe('qbsync provision', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-provision-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: join(dir, 'dataverse') });
    mkdirSync(join(dir, 'sandbox'));
    writeFileSync(
      join(dir, 'sandbox', 'endpoints.json'),
      JSON.stringify({
        dataverse: {
          webApiUrl: sandbox.webApiUrl,
          environmentUrl: sandbox.environmentUrl,
          authority: sandbox.authority,
          tenantId: sandbox.tenantId,
          clientId: sandbox.clientId,
          clientSecret: sandbox.clientSecret,
          caCertPath: sandbox.caCertPath,
        },
      }),
    );
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the connector columns and keys once; a second run changes nothing', async () => {
    const log = pino({ level: 'silent' });
    const first = await provision(dataverseTarget(dir, {}), log);
    assert.ok(first.created.length > 0);
    assert.ok(first.created.some((c) => c.includes('qbsync_qblistid')));
    const second = await provision(dataverseTarget(dir, {}), log);
    assert.deepEqual(second.created, []);
    assert.deepEqual([...second.existing].sort(), [...first.created, ...first.existing].sort());
  });

  it('adds the choice options QuickBooks names need (the sync may not), once', async () => {
    const log = pino({ level: 'silent' });
    const first = await provision(dataverseTarget(dir, {}), log, {
      terms: ['Net 15', 'Net 30'],
      customerTypes: ['Retail'],
    });
    assert.deepEqual(first.optionsAdded, ['customerTypes: Retail', 'terms: Net 15']);
    assert.deepEqual(first.optionsExisting, ['terms: Net 30']);
    assert.deepEqual(first.optionsRefused, []);
    const second = await provision(dataverseTarget(dir, {}), log, { terms: ['net 15'] });
    assert.deepEqual([second.optionsAdded, second.optionsExisting], [[], ['terms: net 15']]);
  });

  it('names what is missing when real Dataverse settings are incomplete, without echoing secrets', () => {
    assert.throws(
      () => dataverseTarget(dir, { DATAVERSE_URL: 'https://org.crm.dynamics.com', DATAVERSE_CLIENT_SECRET: 'hunter2' }),
      (e: Error) =>
        /DATAVERSE_TENANT_ID, DATAVERSE_CLIENT_ID are not/.test(e.message) && !e.message.includes('hunter2'),
    );
    assert.throws(() => dataverseTarget(join(dir, 'nowhere'), {}), /No Dataverse configured/);
  });
});
