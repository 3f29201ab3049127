import { seededRandom } from '../seededRandom';
import type { CompanyFileSimulator } from './companyFile';
import type { ListKind, StoredNode } from './companyState';

/**
 * Generated, deterministic QuickBooks data for `npm run bench`: customers and items in bulk, and edits to a fraction
 * of them, written straight into the store (no qbXML) so thousands take milliseconds. Items need the demo company's
 * income accounts (`Sales`, `Service Income`).
 */

const firstParts = [
  'Acme',
  'Blue',
  'Cedar',
  'Delta',
  'Echo',
  'Falcon',
  'Granite',
  'Harbor',
  'Iron',
  'Juniper',
  'Kestrel',
  'Lumen',
];
const secondParts = [
  'Supply',
  'Works',
  'Traders',
  'Partners',
  'Studio',
  'Logistics',
  'Foods',
  'Labs',
  'Design',
  'Outfitters',
];
const cities: [string, string, string][] = [
  ['Boston', 'MA', '02110'],
  ['Seattle', 'WA', '98101'],
  ['Austin', 'TX', '73301'],
  ['Denver', 'CO', '80202'],
  ['Chicago', 'IL', '60601'],
];

/** Bulk customers for benchmarks, written straight into the store (no qbXML) so thousands take milliseconds. */
export function seedGeneratedCustomers(sim: CompanyFileSimulator, count: number, seed: number): void {
  const { next, pick } = seededRandom(seed);
  const store = sim.store;
  const now = sim.clock.nowSeconds();
  const start = sim.count('Customer');
  for (let i = 0; i < count; i++) {
    const serial = start + i + 1;
    const name = `${pick(firstParts)} ${pick(secondParts)} ${serial}`;
    if (store.findByName('Customer', name)) continue;
    const [city, state, zip] = pick(cities);
    const phone = `555-${String(Math.floor(next() * 9000) + 1000)}`;
    store.addNewList(
      'Customer',
      name,
      [
        { n: 'CompanyName', t: name },
        {
          n: 'BillAddress',
          c: [
            { n: 'Addr1', t: `${serial} Main St` },
            { n: 'City', t: city },
            { n: 'State', t: state },
            { n: 'PostalCode', t: zip },
          ],
        },
        { n: 'Phone', t: phone },
        { n: 'Email', t: `ap${serial}@customers.example` },
      ],
      now,
    );
  }
  sim.flush();
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
  const { next, pick } = seededRandom(seed);
  const sales = accountId(sim, 'Sales');
  const service = accountId(sim, 'Service Income');
  const now = sim.clock.nowSeconds();
  for (let i = 0; i < count; i++) {
    const serial = i + 1;
    const isService = serial % 10 === 0;
    const name = `${pick(finishes)} ${pick(itemWords)} ${serial}`;
    const kind: ListKind = isService ? 'ItemService' : 'ItemNonInventory';
    if (sim.store.findByName(kind, name)) continue;
    const price = (5 + Math.floor(next() * 49_500) / 100).toFixed(2);
    sim.store.addNewList(
      kind,
      name,
      [
        {
          n: 'SalesOrPurchase',
          c: [
            { n: 'Desc', t: isService ? `Service ${serial}, per hour` : `Part ${serial}` },
            { n: 'Price', t: price },
            { n: 'AccountRef', ref: isService ? service : sales },
          ],
        },
      ],
      now,
    );
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
