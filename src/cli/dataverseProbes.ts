import { randomUUID } from 'node:crypto';
import { type DataverseClient } from '../dataverse/client';
import { DataverseError } from '../dataverse/errors';
import { odataString } from '../dataverse/odataAddress';
import { Dec } from '../mapping/money';
import { COMPANY_FILE_COLUMN, LIST_ID_COLUMN, TABLES } from '../mapping/entityRegistry';

/**
 * `qbsync check --probe-writes`: the behaviours of Dataverse the connector relies on but the project could confirm only
 * in its sandbox, tried for real on the organisation (meant for a trial organisation before the first deployment).
 * Each probe says what the connector assumes, what the organisation did, and whether they agree; a disagreement is a
 * fact to report to the project, since the sandbox then differs from Dataverse.
 *
 * The probes write only rows they create, named `qbsync probe <run>`, and delete them at the end; a row the role may
 * not delete is deactivated and reported by id.
 */

export interface ProbeFinding {
  probe: string;
  /** The connector's assumption and what the organisation did agree. */
  ok: boolean;
  detail: string;
  fix?: string;
}

interface ProbeRun {
  client: DataverseClient;
  label: string;
  /** Rows to remove at the end: entity set and id. */
  created: Array<{ entitySet: string; id: string }>;
  findings: ProbeFinding[];
}

export async function runDataverseProbes(client: DataverseClient): Promise<ProbeFinding[]> {
  const run: ProbeRun = { client, label: `qbsync probe ${randomUUID().slice(0, 8)}`, created: [], findings: [] };
  try {
    const accountId = await probeUpsertByKey(run);
    if (accountId) await probeMoneyPrecision(run, accountId);
    await probeDefaultPriceListOnCreate(run);
    await probeBatchFailure(run);
  } finally {
    await removeProbeRows(run);
  }
  return run.findings;
}

const ACCOUNTS = TABLES.account.entitySet;

/** The rows a query returns, at most `top` of them (the probes look at a handful). */
async function rowsOf(
  client: DataverseClient,
  entitySet: string,
  options: { select: string[]; filter?: string; top?: number },
): Promise<Array<Record<string, unknown>>> {
  const rows: Array<Record<string, unknown>> = [];
  for await (const row of client.queryRows(entitySet, options)) rows.push(row);
  return rows;
}

/** The connector upserts accounts by (company file, ListID): the second write must update the row the first created. */
async function probeUpsertByKey(run: ProbeRun): Promise<string | undefined> {
  const probe = 'upsert by alternate key';
  const key = { [COMPANY_FILE_COLUMN]: 'qbsync-probe', [LIST_ID_COLUMN]: `PROBE-${run.label.slice(-8)}` };
  try {
    const first = await run.client.upsertByKey(ACCOUNTS, key, { name: run.label }, { returnRepresentation: true });
    if (first.id) run.created.push({ entitySet: ACCOUNTS, id: first.id });
    // Only with the row returned does Dataverse tell a create (201) from an update (200): both are 204 otherwise.
    const second = await run.client.upsertByKey(
      ACCOUNTS,
      key,
      { name: `${run.label} (again)` },
      { returnRepresentation: true },
    );
    if (second.created && second.id) run.created.push({ entitySet: ACCOUNTS, id: second.id });
    const rows = await rowsOf(run.client, ACCOUNTS, {
      select: ['accountid', 'name'],
      filter: `${LIST_ID_COLUMN} eq ${odataString(key[LIST_ID_COLUMN])}`,
    });
    const ok = first.created === true && second.created === false && rows.length === 1;
    run.findings.push({
      probe,
      ok,
      detail: `first write ${first.created ? 'created' : 'did not create'} the account, the second ${
        second.created === false ? 'updated it' : 'created another'
      }; ${rows.length} row(s) carry the key`,
      ...(ok ? {} : { fix: 'Report this to the project: records synced twice would create twin accounts.' }),
    });
    return first.id ?? undefined;
  } catch (error) {
    run.findings.push({
      probe,
      ok: false,
      detail: describe(error),
      fix: 'Run `qbsync provision` (the key must be Active) and check the role can create and write accounts.',
    });
    return undefined;
  }
}

/** Money columns keep the organisation's pricing precision; the connector's merge base assumes Dataverse rounds to it. */
async function probeMoneyPrecision(run: ProbeRun, accountId: string): Promise<void> {
  const probe = 'money precision (account credit limit)';
  const written = 12.345;
  const expected = new Dec(written).toDecimalPlaces(TABLES.account.money.creditlimit).toNumber();
  try {
    await run.client.update(ACCOUNTS, accountId, { creditlimit: written });
    const row = await run.client.retrieve(ACCOUNTS, accountId, { select: ['creditlimit'] });
    const stored = row?.creditlimit;
    const ok = stored === expected;
    run.findings.push({
      probe,
      ok,
      detail: `wrote ${written}, Dataverse stored ${String(stored)}; the connector expects ${expected}`,
      ...(ok
        ? {}
        : {
            fix: "Report this to the project with the organisation's pricing decimal precision (Settings > Administration > System Settings > General).",
          }),
    });
  } catch (error) {
    run.findings.push({ probe, ok: false, detail: describe(error) });
  }
}

/**
 * A product's default price list cannot be given on create (the connector creates the product, then its price-list
 * item, then sets the default). The probe tries the refused way and expects the refusal; should the organisation
 * accept it, the product is removed again.
 */
async function probeDefaultPriceListOnCreate(run: ProbeRun): Promise<void> {
  const probe = 'default price list refused on product create';
  try {
    const [priceLevel] = await rowsOf(run.client, 'pricelevels', { select: ['pricelevelid'], top: 1 });
    const [schedule] = await rowsOf(run.client, 'uomschedules', { select: ['uomscheduleid'], top: 1 });
    const scheduleId = schedule?.uomscheduleid;
    const [unit] =
      typeof scheduleId === 'string'
        ? await rowsOf(run.client, 'uoms', {
            select: ['uomid'],
            filter: `_uomscheduleid_value eq ${scheduleId} and quantity eq 1`,
            top: 1,
          })
        : [];
    if (!priceLevel || typeof scheduleId !== 'string' || !unit) {
      run.findings.push({
        probe,
        ok: true,
        detail: 'not tried: the organisation has no price list or unit group yet (products will need both)',
      });
      return;
    }
    try {
      const created = await run.client.create('products', {
        name: run.label,
        productnumber: run.label.replace(/\s+/g, '-'),
        'defaultuomscheduleid@odata.bind': `/uomschedules(${scheduleId})`,
        'defaultuomid@odata.bind': `/uoms(${String(unit.uomid)})`,
        'pricelevelid@odata.bind': `/pricelevels(${String(priceLevel.pricelevelid)})`,
      });
      if (created.id) run.created.push({ entitySet: 'products', id: created.id });
      run.findings.push({
        probe,
        ok: false,
        detail: 'the product was created with its default price list set',
        fix: 'Report this to the project: Dataverse accepted what its documentation and the sandbox refuse.',
      });
    } catch (error) {
      const refused = error instanceof DataverseError && error.status === 400;
      run.findings.push({
        probe,
        ok: refused,
        detail: refused ? `refused as expected: ${describe(error)}` : describe(error),
      });
    }
  } catch (error) {
    run.findings.push({ probe, ok: false, detail: describe(error) });
  }
}

/**
 * Without `Prefer: odata.continue-on-error` a failed change set fails the whole `$batch` with that operation's error;
 * the connector relies on getting the operation's own code back.
 */
async function probeBatchFailure(run: ProbeRun): Promise<void> {
  const probe = '$batch answers with the failed operation';
  const missing = randomUUID();
  try {
    // `If-Match: *` makes the PATCH an update only; without it Dataverse would create the row (an upsert).
    await run.client.batch([
      { method: 'PATCH', path: `${ACCOUNTS}(${missing})`, body: { name: run.label }, headers: { 'If-Match': '*' } },
    ]);
    run.created.push({ entitySet: ACCOUNTS, id: missing });
    run.findings.push({
      probe,
      ok: false,
      detail: 'a change set updating a missing account succeeded',
      fix: 'Report this to the project.',
    });
  } catch (error) {
    const ok = error instanceof DataverseError && error.status === 404;
    run.findings.push({
      probe,
      ok,
      detail: ok ? `the batch failed with the operation's 404 (${describe(error)})` : describe(error),
    });
  }
}

async function removeProbeRows(run: ProbeRun): Promise<void> {
  for (const row of run.created.reverse()) {
    try {
      await run.client.delete(row.entitySet, row.id);
    } catch (deleteError) {
      // Least-privilege roles often lack delete: leave the row inactive and say which it is.
      try {
        await run.client.update(row.entitySet, row.id, { statecode: 1 });
        run.findings.push({
          probe: 'clean-up',
          ok: true,
          detail: `could not delete ${row.entitySet}(${row.id}) (${describe(deleteError)}); it is deactivated, named "${run.label}"`,
        });
      } catch (error) {
        run.findings.push({
          probe: 'clean-up',
          ok: false,
          detail: `${row.entitySet}(${row.id}) named "${run.label}" is left behind: ${describe(error)}`,
          fix: 'Delete it by hand.',
        });
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof DataverseError) return `${error.status} ${error.code}: ${error.message}`.trim();
  return error instanceof Error ? error.message : String(error);
}
