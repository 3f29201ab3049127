import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { createSyncContextActivities } from '../../../src/activities/syncContext';
import { readChoiceOptionSet, choiceOptionsOf } from '../../../src/dataverse/choiceOptions';
import { userPrivileges, whoAmI } from '../../../src/dataverse/applicationUser';
import type { DataverseConnection } from '../../../src/dataverse/connect';
import { connectorRolePrivileges } from '../../../src/dataverse/connectorRole';
import { DataverseError } from '../../../src/dataverse/errors';
import { provisionDataverse } from '../../../src/dataverse/provisioning';
import { startDataverseSandbox, type DataverseSandbox } from '../../../src/sandbox/dataverse/server';
import { connectToSandbox } from '../../support/dataverseSandbox';

// Issue 13 item 2: the sync runs under the least-privilege role docs/deployment.md gives, which has no metadata
// privilege; provisioning runs as an administrator. The sandbox signs the two apps in as two application users.
describe('the least-privilege role of the sync', () => {
  let dir: string;
  let sandbox: DataverseSandbox;
  let admin: DataverseConnection;
  let connector: DataverseConnection;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qbsync-least-privilege-'));
    sandbox = await startDataverseSandbox({ port: 0, dataDir: dir, seed: true });
    admin = connectToSandbox(sandbox, 'admin');
    connector = connectToSandbox(sandbox, 'east', {}, 'connector');
    await provisionDataverse(admin.client, { log: pino({ level: 'silent' }) });
  });

  after(async () => {
    await admin?.close();
    await connector?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the connector app is its own application user holding exactly the documented role', async () => {
    const me = await whoAmI(connector.client);
    const administrator = await whoAmI(admin.client);
    assert.notEqual(me.userId, administrator.userId);
    const held = (await userPrivileges(connector.client, me.userId)).map((p) => p.name).sort();
    assert.deepEqual(held, connectorRolePrivileges().sort());
    assert.ok(!held.includes('prvWriteOptionSet'));
    const adminHeld = (await userPrivileges(admin.client, administrator.userId)).map((p) => p.name);
    assert.ok(adminHeld.includes('prvWriteOptionSet') && adminHeld.includes('prvDeleteAccount'));
  });

  it('refuses InsertOptionValue to the connector with 403 PrivilegeDenied naming prvWriteOptionSet; the administrator may', async () => {
    const body = {
      OptionSetName: 'paymenttermscode',
      Label: { LocalizedLabels: [{ Label: 'Net 15', LanguageCode: 1033 }] },
    };
    const me = await whoAmI(connector.client);
    await assert.rejects(connector.client.execute('POST', 'InsertOptionValue', { body }), (error: unknown) => {
      assert.ok(error instanceof DataverseError);
      assert.equal(error.status, 403);
      assert.equal(error.code, '0x80040220');
      assert.match(
        error.serverMessage,
        new RegExp(
          `^Principal user \\(Id=${me.userId}, type=8, .*is missing prvWriteOptionSet privilege .* for entity 'optionset'`,
        ),
      );
      return true;
    });
    const labels = async () => choiceOptionsOf(await readChoiceOptionSet(admin.client, 'terms')).map((o) => o.label);
    assert.ok(!(await labels()).includes('Net 15'), 'a refused insert adds nothing');
    await admin.client.execute('POST', 'InsertOptionValue', { body });
    assert.ok((await labels()).includes('Net 15'));
  });

  it('refuses column and key creation and a table privilege the role lacks', async () => {
    await assert.rejects(
      connector.client.execute('POST', "EntityDefinitions(LogicalName='account')/Attributes", {
        body: {
          '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata',
          SchemaName: 'qbsync_Probe',
          MaxLength: 10,
        },
      }),
      (error: unknown) =>
        error instanceof DataverseError && error.status === 403 && /prvCreateAttribute/.test(error.message),
    );
    const read = await connector.client.execute('GET', 'accounts', { query: '$select=accountid&$top=1' });
    const [account] = (read.body as { value: Array<{ accountid: string }> }).value;
    assert.ok(account, 'the role reads accounts');
    await assert.rejects(
      connector.client.execute('DELETE', `accounts(${account.accountid})`),
      (error: unknown) =>
        error instanceof DataverseError && error.status === 403 && /prvDeleteAccount/.test(error.message),
    );
  });

  it("the poll's option step under the role reports the refused labels instead of failing", async () => {
    const activities = createSyncContextActivities({
      client: {} as Client,
      dataverse: connector.client,
      settings: new Map(),
    });
    const result = await activities.addChoiceOptions({ kind: 'terms', labels: ['Due on receipt', '2% 10 Net 45'] });
    assert.deepEqual(result.added, []);
    assert.deepEqual(result.refused, ['Due on receipt', '2% 10 Net 45']);
    assert.ok(!result.options.some((o) => o.label === 'Due on receipt'));
  });
});
