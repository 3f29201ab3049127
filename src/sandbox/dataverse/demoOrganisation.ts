import { seededRandom } from '../seededRandom';
import { deterministicGuid } from './deterministicId';
import { type RecordService, type WriteContext } from './records';

/**
 * A small, deterministic Dynamics 365 Sales organisation: ids derive from names so tests can refer to rows by id
 * across runs. Products are created (Draft) and then published, the way an administrator would.
 */

const DEMO_CURRENCY_ID = deterministicGuid('transactioncurrency:USD');
export const DEMO_UNIT_GROUP_ID = deterministicGuid('uomschedule:Default Unit');
export const DEMO_UNIT_ID = deterministicGuid('uom:Primary Unit');
export const DEMO_PRICE_LIST_ID = deterministicGuid('pricelevel:Default Price List');

export const demoAccountId = (name: string): string => deterministicGuid(`account:${name}`);
const demoContactId = (name: string): string => deterministicGuid(`contact:${name}`);
export const demoProductId = (number: string): string => deterministicGuid(`product:${number}`);
export const demoOrderId = (name: string): string => deterministicGuid(`salesorder:${name}`);

// One account a line: terms is the paymenttermscode option value (1 Net 30, 2 "2% 10, Net 30", 4 Net 60).
const ACCOUNTS = [
  { name: 'Adventure Works Cycles',  number: 'ADV-001', city: 'Bothell',  state: 'WA', contact: ['Alan', 'Brewer'],    terms: 1 },
  { name: 'Fabrikam Residences',     number: 'FAB-002', city: 'Redmond',  state: 'WA', contact: ['Nancy', 'Anderson'], terms: 4 },
  { name: 'Contoso Pharmaceuticals', number: 'CON-003', city: 'Seattle',  state: 'WA', contact: ['Rene', 'Valdes'],    terms: 1 },
  { name: 'Litware Inc.',            number: 'LIT-004', city: 'Dallas',   state: 'TX', contact: ['Paul', 'Cannon'],    terms: 4 },
  { name: 'Northwind Traders',       number: 'NOR-005', city: 'Portland', state: 'OR', contact: ['Sidney', 'Higa'],    terms: 2 },
  { name: 'Blue Yonder Airlines',    number: 'BLU-006', city: 'Boise',    state: 'ID', contact: ['Susan', 'Burk'],     terms: 1 },
]; // prettier-ignore

const PRODUCTS = [
  { number: 'HW-1001', name: 'Road Bike Frame', price: 649.99, type: 1 },
  { number: 'HW-1002', name: 'Carbon Wheel Set', price: 899.5, type: 1 },
  { number: 'HW-1003', name: 'Disc Brake Kit', price: 129.0, type: 1 },
  { number: 'SV-2001', name: 'Annual Tune-up Service', price: 199.0, type: 3 },
  { number: 'SV-2002', name: 'Bike Fitting Session', price: 149.0, type: 3 },
  { number: 'FE-3001', name: 'Delivery Fee', price: 35.0, type: 4 },
];

const ORDERS: Array<{
  name: string;
  account: string;
  lines: Array<{ product?: string; writeIn?: string; quantity: number; price?: number }>;
}> = [
  {
    name: 'Spring fleet refresh',
    account: 'Adventure Works Cycles',
    lines: [
      { product: 'HW-1001', quantity: 4 },
      { product: 'HW-1002', quantity: 4 },
      { product: 'FE-3001', quantity: 1 },
    ],
  },
  {
    name: 'Service contract 2025',
    account: 'Fabrikam Residences',
    lines: [
      { product: 'SV-2001', quantity: 12 },
      { product: 'SV-2002', quantity: 2 },
    ],
  },
  {
    name: 'Custom brake upgrade',
    account: 'Contoso Pharmaceuticals',
    lines: [
      { product: 'HW-1003', quantity: 10 },
      { writeIn: 'Custom engraved bell', quantity: 10, price: 12.5 },
      { product: 'SV-2002', quantity: 1 },
      { product: 'FE-3001', quantity: 1 },
    ],
  },
];

const quietContext = (): WriteContext => ({ events: [] });

export function seedDemoOrganisation(records: RecordService): void {
  const schema = records.schema;
  const table = (name: string) => schema.table(name);
  const context = quietContext();
  if (records.store.get('transactioncurrency', DEMO_CURRENCY_ID) !== undefined) return;
  records.store.transaction(() => {
    records.create(
      table('transactioncurrency'),
      {
        transactioncurrencyid: DEMO_CURRENCY_ID,
        currencyname: 'US Dollar',
        isocurrencycode: 'USD',
        currencysymbol: '$',
        exchangerate: 1,
        currencyprecision: 2,
      },
      context,
    );
    records.create(
      table('uomschedule'),
      { uomscheduleid: DEMO_UNIT_GROUP_ID, name: 'Default Unit', baseuomname: 'Primary Unit' },
      context,
    );
    records.create(
      table('uom'),
      {
        uomid: DEMO_UNIT_ID,
        name: 'Primary Unit',
        quantity: 1,
        isschedulebaseuom: true,
        'uomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
      },
      context,
    );
    records.create(
      table('pricelevel'),
      {
        pricelevelid: DEMO_PRICE_LIST_ID,
        name: 'Default Price List',
        'transactioncurrencyid@odata.bind': `/transactioncurrencies(${DEMO_CURRENCY_ID})`,
      },
      context,
    );
    for (const p of PRODUCTS) {
      const id = demoProductId(p.number);
      const product = records.create(
        table('product'),
        {
          productid: id,
          name: p.name,
          productnumber: p.number,
          producttypecode: p.type,
          price: p.price,
          'defaultuomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
          'defaultuomscheduleid@odata.bind': `/uomschedules(${DEMO_UNIT_GROUP_ID})`,
          'transactioncurrencyid@odata.bind': `/transactioncurrencies(${DEMO_CURRENCY_ID})`,
        },
        context,
      );
      if (product.statecode !== 0) records.update(table('product'), product, { statecode: 0, statuscode: 1 }, context);
      records.create(
        table('productpricelevel'),
        {
          productpricelevelid: deterministicGuid(`productpricelevel:${p.number}`),
          amount: p.price,
          'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
          'productid@odata.bind': `/products(${id})`,
          'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
        },
        context,
      );
      // The default price list is not valid on create: it is set once the product has its price-list item.
      records.update(
        table('product'),
        records.store.get('product', id) ?? product,
        { 'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})` },
        context,
      );
    }
    for (const a of ACCOUNTS) {
      const accountId = demoAccountId(a.name);
      const [first, last] = a.contact;
      const contactName = `${first ?? ''} ${last ?? ''}`;
      const account = records.create(
        table('account'),
        {
          accountid: accountId,
          name: a.name,
          accountnumber: a.number,
          customertypecode: 3,
          paymenttermscode: a.terms,
          address1_line1: '1 Main Street',
          address1_city: a.city,
          address1_stateorprovince: a.state,
          address1_postalcode: '98000',
          address1_country: 'United States',
          telephone1: '555-0100',
          emailaddress1: `info@${a.name.split(' ')[0]?.toLowerCase() ?? 'example'}.example.com`,
          'defaultpricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
          'transactioncurrencyid@odata.bind': `/transactioncurrencies(${DEMO_CURRENCY_ID})`,
        },
        context,
      );
      records.create(
        table('contact'),
        {
          contactid: demoContactId(contactName),
          firstname: first,
          lastname: last,
          emailaddress1: `${(first ?? '').toLowerCase()}@${a.name.split(' ')[0]?.toLowerCase() ?? 'example'}.example.com`,
          'parentcustomerid_account@odata.bind': `/accounts(${accountId})`,
        },
        context,
      );
      records.update(
        table('account'),
        account,
        { 'primarycontactid@odata.bind': `/contacts(${demoContactId(contactName)})` },
        context,
      );
    }
    for (const o of ORDERS) {
      const orderId = demoOrderId(o.name);
      records.create(
        table('salesorder'),
        {
          salesorderid: orderId,
          name: o.name,
          'customerid_account@odata.bind': `/accounts(${demoAccountId(o.account)})`,
          'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
        },
        context,
      );
      o.lines.forEach((line, index) => {
        const body: Record<string, unknown> = {
          salesorderdetailid: deterministicGuid(`salesorderdetail:${o.name}:${index}`),
          'salesorderid@odata.bind': `/salesorders(${orderId})`,
          quantity: line.quantity,
        };
        if (line.writeIn !== undefined) {
          body.isproductoverridden = true;
          body.productdescription = line.writeIn;
          body.priceperunit = line.price ?? 0;
        } else {
          body['productid@odata.bind'] = `/products(${demoProductId(line.product ?? '')})`;
          body['uomid@odata.bind'] = `/uoms(${DEMO_UNIT_ID})`;
        }
        records.create(table('salesorderdetail'), body, context);
      });
    }
  });
}

/** Adds `count` Active orders with `linesEach` catalog lines; returns their ids. Seeds the demo organisation if needed. */
/**
 * `count` accounts created in Dynamics (no company file yet), as a sales team's import would make them: each becomes a
 * QuickBooks customer in the connection that receives new accounts. For the benchmark's burst towards QuickBooks.
 */
export function seedGeneratedAccounts(sandbox: { records: RecordService }, count: number, seed: number): string[] {
  const records = sandbox.records;
  seedDemoOrganisation(records);
  const context = quietContext();
  const ids: string[] = [];
  const accounts = records.schema.table('account');
  records.store.transaction(() => {
    for (let i = 0; i < count; i += 1) {
      const name = `Generated account ${seed}-${i + 1}`;
      const accountId = demoAccountId(name);
      ids.push(accountId);
      if (records.store.get('account', accountId) !== undefined) continue;
      records.create(
        accounts,
        {
          accountid: accountId,
          name,
          customertypecode: 3,
          telephone1: `+1 555 02${String(i % 100).padStart(2, '0')}`,
          address1_city: 'Seattle',
        },
        context,
      );
    }
  });
  return ids;
}

export function seedGeneratedSalesOrders(
  sandbox: { records: RecordService },
  count: number,
  linesEach: number,
  seed: number,
): string[] {
  const records = sandbox.records;
  seedDemoOrganisation(records);
  const { next, pick } = seededRandom(seed);
  const context = quietContext();
  const ids: string[] = [];
  const orders = records.schema.table('salesorder');
  const lines = records.schema.table('salesorderdetail');
  records.store.transaction(() => {
    for (let i = 0; i < count; i += 1) {
      const name = `Generated order ${seed}-${i + 1}`;
      const orderId = demoOrderId(name);
      const account = pick(ACCOUNTS);
      if (records.store.get('salesorder', orderId) !== undefined) {
        ids.push(orderId);
        continue;
      }
      records.create(
        orders,
        {
          salesorderid: orderId,
          name,
          'customerid_account@odata.bind': `/accounts(${demoAccountId(account.name)})`,
          'pricelevelid@odata.bind': `/pricelevels(${DEMO_PRICE_LIST_ID})`,
        },
        context,
      );
      for (let l = 0; l < linesEach; l += 1) {
        const product = pick(PRODUCTS);
        records.create(
          lines,
          {
            salesorderdetailid: deterministicGuid(`salesorderdetail:${name}:${l}`),
            'salesorderid@odata.bind': `/salesorders(${orderId})`,
            'productid@odata.bind': `/products(${demoProductId(product.number)})`,
            'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
            quantity: 1 + Math.floor(next() * 9),
          },
          context,
        );
      }
      ids.push(orderId);
    }
  });
  return ids;
}
