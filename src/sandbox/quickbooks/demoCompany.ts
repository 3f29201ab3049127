import type { CompanyFileSimulator } from './companyFile';
import { escapeXml } from './xml';

/*
 * Demo data for the two regional offices. It goes in through qbXML like any client's data would (so the seed also
 * exercises the schema), in a fixed order, so the same clock gives byte-identical company files.
 */

type Content = string | Field[];
type Field = [string, Content];

function toXml(fields: Field[]): string {
  return fields
    .map(([name, content]) => `<${name}>${typeof content === 'string' ? escapeXml(content) : toXml(content)}</${name}>`)
    .join('');
}

const byName = (name: string): Field[] => [['FullName', name]];

interface DemoCustomer {
  name: string;
  company?: string;
  first: string;
  last: string;
  street: string;
  city: string;
  state: string;
  zip: string;
  phone: string;
  email: string;
  type: 'Retail' | 'Wholesale' | 'Commercial';
  terms: 'Net 30' | 'Net 15' | 'Due on receipt';
  jobs?: { name: string; desc: string; status: string }[];
}

interface Office {
  region: 'East' | 'West';
  customers: DemoCustomer[];
  vendors: { name: string; city: string; state: string; zip: string; phone: string; terms: string }[];
}

const sharedCustomer = (city: string, state: string, zip: string, phone: string): DemoCustomer => ({
  name: 'Northwind Traders',
  company: 'Northwind Traders Inc.',
  first: 'Nancy',
  last: 'Davolio',
  street: '507 Twentieth Ave. E.',
  city,
  state,
  zip,
  phone,
  email: 'orders@northwind.example',
  type: 'Wholesale',
  terms: 'Net 30',
});

const offices: Record<'east' | 'west', Office> = {
  east: {
    region: 'East',
    customers: [
      sharedCustomer('Boston', 'MA', '02110', '617-555-0100'),
      {
        name: 'Harbor Lights Cafe',
        first: 'Maria',
        last: 'Santos',
        street: '12 Atlantic Ave',
        city: 'Boston',
        state: 'MA',
        zip: '02110',
        phone: '617-555-0142',
        email: 'maria@harborlights.example',
        type: 'Retail',
        terms: 'Due on receipt',
      },
      {
        name: 'Keystone Builders',
        company: 'Keystone Builders LLC',
        first: 'Tom',
        last: 'Reilly',
        street: '400 Market St',
        city: 'Philadelphia',
        state: 'PA',
        zip: '19106',
        phone: '215-555-0177',
        email: 'tom@keystone.example',
        type: 'Commercial',
        terms: 'Net 30',
        jobs: [
          { name: 'Office Fit-out', desc: 'Third floor office furniture', status: 'InProgress' },
          { name: 'Lobby Refresh', desc: 'Reception desk and seating', status: 'Pending' },
        ],
      },
      {
        name: 'Empire Office Supply',
        first: 'Grace',
        last: 'Kim',
        street: '350 Fifth Ave',
        city: 'New York',
        state: 'NY',
        zip: '10118',
        phone: '212-555-0123',
        email: 'grace@empireoffice.example',
        type: 'Wholesale',
        terms: 'Net 30',
      },
      {
        name: 'Green Mountain Books',
        first: 'Ethan',
        last: 'Allen',
        street: '77 Church St',
        city: 'Burlington',
        state: 'VT',
        zip: '05401',
        phone: '802-555-0199',
        email: 'ethan@gmbooks.example',
        type: 'Retail',
        terms: 'Net 15',
      },
      {
        name: 'Capitol Dental Group',
        first: 'Priya',
        last: 'Raman',
        street: '1100 K St NW',
        city: 'Washington',
        state: 'DC',
        zip: '20005',
        phone: '202-555-0111',
        email: 'priya@capitoldental.example',
        type: 'Commercial',
        terms: 'Net 30',
        jobs: [{ name: 'Clinic Expansion', desc: 'Two new treatment rooms', status: 'Awarded' }],
      },
      {
        name: 'Brandywine Florist',
        first: 'Lucy',
        last: 'Chen',
        street: '9 Kennett Pike',
        city: 'Wilmington',
        state: 'DE',
        zip: '19807',
        phone: '302-555-0134',
        email: 'lucy@brandywine.example',
        type: 'Retail',
        terms: 'Due on receipt',
      },
      {
        name: 'Hudson Valley Farms',
        first: 'Owen',
        last: 'Miller',
        street: '25 River Rd',
        city: 'Poughkeepsie',
        state: 'NY',
        zip: '12601',
        phone: '845-555-0166',
        email: 'owen@hvfarms.example',
        type: 'Wholesale',
        terms: 'Net 15',
      },
      {
        name: 'Cape Cod Marine',
        first: 'Sam',
        last: 'Nickerson',
        street: '3 Harbor Way',
        city: 'Hyannis',
        state: 'MA',
        zip: '02601',
        phone: '508-555-0155',
        email: 'sam@capecodmarine.example',
        type: 'Commercial',
        terms: 'Net 30',
      },
      {
        name: 'Pine State Outfitters',
        first: 'Ava',
        last: 'Lund',
        street: '48 Exchange St',
        city: 'Portland',
        state: 'ME',
        zip: '04101',
        phone: '207-555-0188',
        email: 'ava@pinestate.example',
        type: 'Retail',
        terms: 'Net 15',
      },
      {
        name: 'Liberty Print Works',
        first: 'Noah',
        last: 'Feld',
        street: '210 Arch St',
        city: 'Philadelphia',
        state: 'PA',
        zip: '19106',
        phone: '215-555-0109',
        email: 'noah@libertyprint.example',
        type: 'Wholesale',
        terms: 'Net 30',
      },
      {
        name: 'Charles River Labs Supply',
        first: 'Ivy',
        last: 'Stone',
        street: '1 Kendall Sq',
        city: 'Cambridge',
        state: 'MA',
        zip: '02139',
        phone: '617-555-0171',
        email: 'ivy@crls.example',
        type: 'Commercial',
        terms: 'Net 30',
      },
    ],
    vendors: [
      {
        name: 'Atlantic Freight Co',
        city: 'Newark',
        state: 'NJ',
        zip: '07102',
        phone: '973-555-0140',
        terms: 'Net 30',
      },
      {
        name: 'Eastern Furniture Mfg',
        city: 'Hickory',
        state: 'NC',
        zip: '28601',
        phone: '828-555-0112',
        terms: '1% 10 Net 30',
      },
      {
        name: 'Bay State Electric',
        city: 'Worcester',
        state: 'MA',
        zip: '01608',
        phone: '508-555-0127',
        terms: 'Net 15',
      },
      {
        name: 'Granite Office Wholesale',
        city: 'Manchester',
        state: 'NH',
        zip: '03101',
        phone: '603-555-0190',
        terms: 'Net 30',
      },
    ],
  },
  west: {
    region: 'West',
    customers: [
      sharedCustomer('Seattle', 'WA', '98101', '206-555-0100'),
      {
        name: 'Golden Gate Bistro',
        first: 'Luis',
        last: 'Ortega',
        street: '88 Embarcadero',
        city: 'San Francisco',
        state: 'CA',
        zip: '94111',
        phone: '415-555-0148',
        email: 'luis@ggbistro.example',
        type: 'Retail',
        terms: 'Due on receipt',
      },
      {
        name: 'Cascade Construction',
        company: 'Cascade Construction Inc.',
        first: 'Dana',
        last: 'Whitford',
        street: '1500 4th Ave',
        city: 'Seattle',
        state: 'WA',
        zip: '98101',
        phone: '206-555-0175',
        email: 'dana@cascadecon.example',
        type: 'Commercial',
        terms: 'Net 30',
        jobs: [
          { name: 'Tower Offices', desc: 'Open-plan desks for floors 5-6', status: 'InProgress' },
          { name: 'Site Trailer', desc: 'Temporary site office', status: 'Closed' },
        ],
      },
      {
        name: 'Rose City Coffee',
        first: 'Mia',
        last: 'Tanaka',
        street: '310 SW Alder St',
        city: 'Portland',
        state: 'OR',
        zip: '97204',
        phone: '503-555-0133',
        email: 'mia@rosecity.example',
        type: 'Retail',
        terms: 'Net 15',
      },
      {
        name: 'Silicon Desk Co',
        first: 'Raj',
        last: 'Patel',
        street: '2 Innovation Way',
        city: 'San Jose',
        state: 'CA',
        zip: '95110',
        phone: '408-555-0122',
        email: 'raj@silicondesk.example',
        type: 'Wholesale',
        terms: 'Net 30',
      },
      {
        name: 'Desert Sun Clinics',
        first: 'Elena',
        last: 'Vargas',
        street: '45 Camelback Rd',
        city: 'Phoenix',
        state: 'AZ',
        zip: '85012',
        phone: '602-555-0161',
        email: 'elena@desertsun.example',
        type: 'Commercial',
        terms: 'Net 30',
        jobs: [{ name: 'Scottsdale Office', desc: 'New clinic waiting room', status: 'Awarded' }],
      },
      {
        name: 'Sierra Outdoor Gear',
        first: 'Jack',
        last: 'Moss',
        street: '600 Lake Blvd',
        city: 'Tahoe City',
        state: 'CA',
        zip: '96145',
        phone: '530-555-0184',
        email: 'jack@sierragear.example',
        type: 'Retail',
        terms: 'Net 15',
      },
      {
        name: 'Pacific Rim Imports',
        first: 'Hana',
        last: 'Sato',
        street: '900 Harbor Dr',
        city: 'San Diego',
        state: 'CA',
        zip: '92101',
        phone: '619-555-0157',
        email: 'hana@pacrim.example',
        type: 'Wholesale',
        terms: 'Net 30',
      },
      {
        name: 'Mile High Dental',
        first: 'Chris',
        last: 'Baker',
        street: '1600 Glenarm Pl',
        city: 'Denver',
        state: 'CO',
        zip: '80202',
        phone: '303-555-0119',
        email: 'chris@milehigh.example',
        type: 'Commercial',
        terms: 'Net 30',
      },
      {
        name: 'Evergreen Books',
        first: 'Zoe',
        last: 'Park',
        street: '14 Pine St',
        city: 'Tacoma',
        state: 'WA',
        zip: '98402',
        phone: '253-555-0102',
        email: 'zoe@evergreen.example',
        type: 'Retail',
        terms: 'Due on receipt',
      },
      {
        name: 'Valley Vineyards',
        first: 'Marco',
        last: 'Rossi',
        street: '7 Silverado Trl',
        city: 'Napa',
        state: 'CA',
        zip: '94558',
        phone: '707-555-0138',
        email: 'marco@valleyvin.example',
        type: 'Wholesale',
        terms: 'Net 15',
      },
      {
        name: 'Redwood Architects',
        first: 'Nina',
        last: 'Hale',
        street: '55 Main St',
        city: 'Eureka',
        state: 'CA',
        zip: '95501',
        phone: '707-555-0194',
        email: 'nina@redwoodarch.example',
        type: 'Commercial',
        terms: 'Net 30',
      },
    ],
    vendors: [
      {
        name: 'Pacific Freight Lines',
        city: 'Oakland',
        state: 'CA',
        zip: '94607',
        phone: '510-555-0144',
        terms: 'Net 30',
      },
      {
        name: 'Western Furniture Mfg',
        city: 'Tualatin',
        state: 'OR',
        zip: '97062',
        phone: '503-555-0116',
        terms: '1% 10 Net 30',
      },
      {
        name: 'Sunset Electric Supply',
        city: 'Los Angeles',
        state: 'CA',
        zip: '90012',
        phone: '213-555-0129',
        terms: 'Net 15',
      },
      {
        name: 'Rainier Office Wholesale',
        city: 'Tacoma',
        state: 'WA',
        zip: '98402',
        phone: '253-555-0192',
        terms: 'Net 30',
      },
    ],
  },
};

function items(): [string, Field[]][] {
  const sales = (desc: string, price: string, account: string): Field => [
    'SalesOrPurchase',
    [
      ['Desc', desc],
      ['Price', price],
      ['AccountRef', byName(account)],
    ],
  ];
  const inventory = (name: string, desc: string, price: string, cost: string, onHand: string): [string, Field[]] => [
    'ItemInventory',
    [
      ['Name', name],
      ['SalesDesc', desc],
      ['SalesPrice', price],
      ['IncomeAccountRef', byName('Sales')],
      ['PurchaseDesc', desc],
      ['PurchaseCost', cost],
      ['COGSAccountRef', byName('Cost of Goods Sold')],
      ['AssetAccountRef', byName('Inventory Asset')],
      ['ReorderPoint', '5'],
      ['QuantityOnHand', onHand],
      ['TotalValue', (Number(cost) * Number(onHand)).toFixed(2)],
    ],
  ];
  return [
    inventory('Standing Desk', 'Electric sit-stand desk, 60 in.', '649.00', '410.00', '25'),
    inventory('Task Chair', 'Ergonomic mesh task chair', '289.00', '160.00', '40'),
    inventory('Monitor Arm', 'Dual monitor arm, gas spring', '119.00', '58.50', '60'),
    ['ItemNonInventory', [['Name', 'Cable Kit'], sales('Cable management kit', '24.95', 'Sales')]],
    ['ItemNonInventory', [['Name', 'Desk Lamp'], sales('LED desk lamp', '39.50', 'Sales')]],
    ['ItemService', [['Name', 'Installation'], sales('On-site installation, per hour', '95.00', 'Service Income')]],
    [
      'ItemService',
      [['Name', 'Design Consultation'], sales('Workspace design consultation, per hour', '150.00', 'Service Income')],
    ],
    ['ItemService', [['Name', 'Write-in'], sales('Write-in line from Dynamics 365', '0.00', 'Sales')]],
    [
      'ItemDiscount',
      [
        ['Name', 'Discount'],
        ['ItemDesc', 'Order or line discount'],
        ['DiscountRate', '0.00'],
        ['AccountRef', byName('Sales Discounts')],
      ],
    ],
    ['ItemOtherCharge', [['Name', 'Freight'], sales('Freight and delivery', '0.00', 'Freight Income')]],
  ];
}

function customerAdd(c: DemoCustomer, region: string): Field[] {
  const fields: Field[] = [
    ['Name', c.name],
    ['IsActive', 'true'],
    ['ClassRef', byName(region)],
  ];
  if (c.company) fields.push(['CompanyName', c.company]);
  // The demo customers receive their goods where they are billed.
  const address: Field[] = [
    ['Addr1', c.company ?? c.name],
    ['Addr2', c.street],
    ['City', c.city],
    ['State', c.state],
    ['PostalCode', c.zip],
    ['Country', 'USA'],
  ];
  fields.push(
    ['FirstName', c.first],
    ['LastName', c.last],
    ['BillAddress', address],
    ['ShipAddress', address],
    ['Phone', c.phone],
    ['Email', c.email],
    ['Contact', `${c.first} ${c.last}`],
    ['CustomerTypeRef', byName(c.type)],
    ['TermsRef', byName(c.terms)],
  );
  return fields;
}

/**
 * The terms and customer types the office's demo company uses: the QuickBooks names Dynamics needs options for, added
 * at provisioning (`qbsync provision --terms … --customer-types …`), since the sync's role may not add them.
 */
export function demoCompanyChoiceNames(office: 'east' | 'west'): { terms: string[]; customerTypes: string[] } {
  const { customers, vendors } = offices[office];
  const distinct = (names: string[]): string[] => [...new Set(names)];
  return {
    terms: distinct([...customers.map((c) => c.terms), ...vendors.map((v) => v.terms)]),
    customerTypes: distinct(customers.map((c) => c.type)),
  };
}

/** Seeds the office's demo company, unless the company file already has customers. */
export function seedDemoCompany(sim: CompanyFileSimulator, opts: { office: 'east' | 'west' }): void {
  if (sim.count('Customer') > 0) return;
  const office = offices[opts.office];
  const requests: string[] = [];
  const rq = (type: string, fields: Field[]) =>
    requests.push(`<${type}AddRq><${type}Add>${toXml(fields)}</${type}Add></${type}AddRq>`);
  for (const type of ['Retail', 'Wholesale', 'Commercial']) rq('CustomerType', [['Name', type]]);
  for (const cls of [office.region, 'Services']) rq('Class', [['Name', cls]]);
  for (const v of office.vendors) {
    rq('Vendor', [
      ['Name', v.name],
      ['CompanyName', v.name],
      [
        'VendorAddress',
        [
          ['Addr1', v.name],
          ['City', v.city],
          ['State', v.state],
          ['PostalCode', v.zip],
          ['Country', 'USA'],
        ],
      ],
      ['Phone', v.phone],
      ['NameOnCheck', v.name],
      ['TermsRef', byName(v.terms)],
    ]);
  }
  for (const [type, fields] of items()) rq(type, fields);
  for (const c of office.customers) {
    rq('Customer', customerAdd(c, office.region));
    for (const job of c.jobs ?? []) {
      rq('Customer', [
        ['Name', job.name],
        ['ClassRef', byName('Services')],
        ['ParentRef', byName(c.name)],
        ['JobStatus', job.status],
        ['JobDesc', job.desc],
      ]);
    }
  }
  const response = sim.processRequest(
    `<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML><QBXMLMsgsRq onError="rollbackOnError">${requests.join('')}</QBXMLMsgsRq></QBXML>`,
  );
  const failed = /statusSeverity="Error"[^>]*statusMessage="([^"]*)"/.exec(response);
  if (failed) throw new Error(`demo seed failed: ${failed[1] ?? ''}`);
}
