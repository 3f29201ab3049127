import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  connectorRolePrivileges,
  connectorRoleRequirements,
  type AccessRight,
} from '../../src/dataverse/connectorRole';
import { CONNECTOR_WEBHOOK_STEPS } from '../../src/dataverse/connectorWebhook';
import { WEBHOOK_TABLES } from '../../src/mapping/entityRegistry';

const deploymentDoc = readFileSync(join(__dirname, '..', '..', 'docs', 'deployment.md'), 'utf8');

/** The rows of the Markdown table whose header row starts with `header`, as trimmed cells. */
function tableRows(header: string): string[][] {
  const lines = deploymentDoc.split('\n').map((line) => line.trim());
  const start = lines.findIndex((line) => line.startsWith(header));
  assert.ok(start >= 0, `docs/deployment.md has no table headed "${header}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const rightOf = (label: string): AccessRight => (label === 'Append To' ? 'AppendTo' : (label as AccessRight));
const sorted = <T>(values: Iterable<T>): T[] => [...values].sort();

describe('the connector role, one truth for the sandbox, qbsync check and docs/deployment.md', () => {
  it('uses the privilege names Dataverse uses: Order for sales orders, parents for their lines', () => {
    const names = connectorRolePrivileges();
    assert.equal(new Set(names).size, names.length, 'each privilege once');
    for (const name of ['prvReadOrder', 'prvWriteOrder', 'prvAppendToOrder', 'prvCreateInvoice', 'prvReadOpportunity'])
      assert.ok(names.includes(name), name);
    for (const table of ['SalesOrder', 'SalesOrderDetail', 'InvoiceDetail', 'OpportunityProduct', 'UoM', 'PriceLevel'])
      assert.deepEqual(
        names.filter((name) => name.endsWith(table)),
        [],
        `no privilege is named after ${table}`,
      );
    const order = connectorRoleRequirements().find((p) => p.name === 'prvReadOrder');
    assert.deepEqual(order?.tables, ['salesorder', 'salesorderdetail']);
  });

  it("docs/deployment.md §4.2 gives exactly the role's rows, tables and rights", () => {
    const documented = tableRows('| role editor row').map(([row, tables, rights]) => {
      const entity = /`prv…(\w+)`/.exec(row ?? '')?.[1];
      assert.ok(entity, `row "${row}" names its privileges as \`prv…<Name>\``);
      return {
        entity,
        tables: sorted((tables ?? '').match(/[a-z]+(?=`)/g) ?? []),
        rights: sorted((rights ?? '').split(',').map((r) => rightOf(r.trim()))),
      };
    });
    const role = new Map<string, { tables: Set<string>; rights: Set<AccessRight> }>();
    for (const privilege of connectorRoleRequirements()) {
      const row = role.get(privilege.entity) ?? { tables: new Set(), rights: new Set() };
      privilege.tables.forEach((t) => row.tables.add(t));
      row.rights.add(privilege.right);
      role.set(privilege.entity, row);
    }
    assert.deepEqual(
      sorted(documented.map((row) => JSON.stringify(row))),
      sorted(
        [...role].map(([entity, row]) =>
          JSON.stringify({ entity, tables: sorted(row.tables), rights: sorted(row.rights) }),
        ),
      ),
    );
  });

  it("docs/deployment.md §6 lists exactly the connector's webhook steps", () => {
    const documented = tableRows('| Message | Primary Entity').map(([message, table]) => `${message} of ${table}`);
    assert.deepEqual(
      sorted(documented),
      sorted(CONNECTOR_WEBHOOK_STEPS.map((step) => `${step.message} of ${step.table}`)),
    );
  });

  it("registers a step for every table the gateway's webhook receiver acts on, and for no other", () => {
    assert.deepEqual(sorted(new Set(CONNECTOR_WEBHOOK_STEPS.map((step) => step.table))), sorted(WEBHOOK_TABLES));
  });
});
