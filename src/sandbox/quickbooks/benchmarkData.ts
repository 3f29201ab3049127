import type { CompanyFileSimulator } from './companyFile';
import type { ListKind, ListRecord, StoredNode } from './companyState';

/**
 * Generated, deterministic QuickBooks data for `npm run bench`: items in bulk, and edits to a fraction of the
 * generated customers and items, written straight into the store (no qbXML) so thousands take milliseconds. Needs the
 * demo company's income accounts (`Sales`, `Service Income`).
 */

/** mulberry32: the same seed always yields the same items and the same edits. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const itemWords = ['Bracket', 'Panel', 'Hinge', 'Caster', 'Shelf', 'Clamp', 'Drawer', 'Rail', 'Cable', 'Mount'];
const finishes = ['Oak', 'Steel', 'Walnut', 'Matte', 'Chrome', 'Ash', 'Graphite', 'Birch'];

function accountId(sim: CompanyFileSimulator, name: string): string {
  const account = sim.store.findByName('Account', name);
  if (!account) throw new Error(`company file ${sim.name} has no account ${name}: seed the demo company first`);
  return account.listId;
}

/** Adds `count` non-inventory parts and services (every tenth a service), named `<finish> <word> <serial>`. */
export function seedGeneratedItems(sim: CompanyFileSimulator, count: number, seed: number): void {
  const random = sequence(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const sales = accountId(sim, 'Sales');
  const service = accountId(sim, 'Service Income');
  const now = sim.clock.nowSeconds();
  for (let i = 0; i < count; i++) {
    const serial = i + 1;
    const isService = serial % 10 === 0;
    const name = `${pick(finishes)} ${pick(itemWords)} ${serial}`;
    const kind: ListKind = isService ? 'ItemService' : 'ItemNonInventory';
    if (sim.store.findByName(kind, name)) continue;
    const price = (5 + Math.floor(random() * 49_500) / 100).toFixed(2);
    const record: ListRecord = {
      kind,
      listId: sim.store.nextListId(now),
      created: now,
      modified: now,
      editSequence: String(now),
      name,
      isActive: true,
      fields: [
        {
          n: 'SalesOrPurchase',
          c: [
            { n: 'Desc', t: isService ? `Service ${serial}, per hour` : `Part ${serial}` },
            { n: 'Price', t: price },
            { n: 'AccountRef', ref: isService ? service : sales },
          ],
        },
      ],
    };
    sim.store.addList(record);
  }
  sim.flush();
}

function setField(fields: StoredNode[], name: string, value: string): void {
  const found = fields.find((f) => f.n === name);
  if (found) found.t = value;
  else fields.push({ n: name, t: value });
}

/**
 * Edits every `1 / fraction`-th record of `kinds` (at least one), as a QuickBooks user would: a new phone for a
 * customer, a new description for an item, TimeModified and EditSequence moved forward. Returns the ListIDs edited.
 */
export function editGeneratedRecords(
  sim: CompanyFileSimulator,
  kinds: readonly ListKind[],
  fraction: number,
  tag: string,
): string[] {
  const records = sim.store.listsOf(kinds).filter((r) => r.isActive);
  const step = Math.max(1, Math.round(1 / fraction));
  const now = sim.clock.nowSeconds();
  const edited: string[] = [];
  for (let i = 0; i < records.length; i += step) {
    const record = records[i];
    if (!record) continue;
    if (record.kind === 'Customer') {
      setField(record.fields, 'Phone', `555-${String(1000 + (i % 9000))}`);
    } else {
      const sales = record.fields.find((f) => f.n === 'SalesOrPurchase');
      const desc = sales?.c?.find((f) => f.n === 'Desc');
      if (desc) desc.t = `${desc.t ?? ''} (${tag})`.slice(0, 4095);
    }
    record.modified = now;
    record.editSequence = String(Math.max(now, Number(record.editSequence) + 1));
    edited.push(record.listId);
  }
  sim.flush();
  return edited;
}
