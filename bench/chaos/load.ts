import { randomUUID } from 'node:crypto';
import type { DataverseClient } from '../../src/dataverse/client';
import { ENTITY_SETS } from '../../src/dataverse/entities';
import { parseQbxmlResponse } from '../../src/qbxml/parse';
import type { CustomerRet, InvoiceRet, QbRecord } from '../../src/qbxml/requests';
import { DEMO_UNIT_ID, demoProductId } from '../../src/sandbox/dataverse/demoOrganisation';
import type { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';

/**
 * The steady load of the chaos run, played as the people who use both systems: QuickBooks users edit customers, add
 * customers and take payments; Dynamics users edit accounts, add accounts and enter sales orders (through the Web
 * API, without the connector's tag, so Dynamics sends its webhooks). Every write the load makes is remembered, so the
 * oracle can tell an edit that was lost from one that lost a fair conflict.
 */

export type Side = 'quickbooks' | 'dynamics';
export const OFFICES = ['east', 'west'] as const;
export type Office = (typeof OFFICES)[number];

/** A phone number written to one side of a paired customer/account. */
export interface PhoneWrite {
  side: Side;
  value: string;
  at: number;
}

/** Catalogue products every order line draws from (seeded in both systems' demo data). */
const ORDER_PRODUCTS = ['HW-1001', 'HW-1002', 'HW-1003', 'FE-3001'];

function qbxml(body: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">${body}</QBXMLMsgsRq></QBXML>`;
}

/** One qbXML request against a company file, as QBWC hands it to QuickBooks; throws on an error status. */
export function askQuickBooks(file: CompanyFileSimulator, body: string): QbRecord[] {
  const [response] = parseQbxmlResponse(file.processRequest(qbxml(body)));
  if (!response || response.statusCode > 1) {
    throw new Error(`QuickBooks refused ${body.slice(0, 60)}: ${response?.statusMessage ?? 'no response'}`);
  }
  return response.records;
}

export interface LoadCounts {
  quickbooksEdits: number;
  dynamicsEdits: number;
  quickbooksCustomersAdded: number;
  dynamicsAccountsAdded: number;
  ordersEntered: number;
  payments: number;
  sameFieldBothSides: number;
  skipped: number;
}

export class ChaosLoad {
  readonly counts: LoadCounts = {
    quickbooksEdits: 0,
    dynamicsEdits: 0,
    quickbooksCustomersAdded: 0,
    dynamicsAccountsAdded: 0,
    ordersEntered: 0,
    payments: 0,
    sameFieldBothSides: 0,
    skipped: 0,
  };
  /** `<office>:<ListID>` → every phone written, in order. */
  readonly phoneWrites = new Map<string, PhoneWrite[]>();
  /** Orders entered in Dynamics (id → office of its customer). */
  readonly orders = new Map<string, Office>();
  readonly accountsAdded: { id: string; office: Office; name: string }[] = [];
  readonly customersAdded: { office: Office; name: string }[] = [];
  private serial = 0;

  constructor(
    private readonly files: ReadonlyMap<string, CompanyFileSimulator>,
    private readonly dynamics: DataverseClient,
    private readonly random: () => number,
    private readonly seed: number,
    /** False while a Dataverse storm is on: users' writes wait it out instead of failing. */
    private readonly dynamicsAvailable: () => boolean,
  ) {}

  private pick<T>(items: readonly T[]): T | undefined {
    return items[Math.floor(this.random() * items.length)];
  }

  private file(office: Office): CompanyFileSimulator {
    const file = this.files.get(office);
    if (!file) throw new Error(`no company file ${office}`);
    return file;
  }

  private phone(): string {
    return `555-${String(1000 + Math.floor(this.random() * 9000))}`;
  }

  private remember(office: Office, listId: string, write: PhoneWrite): void {
    const key = `${office}:${listId}`;
    const writes = this.phoneWrites.get(key) ?? [];
    writes.push(write);
    this.phoneWrites.set(key, writes);
  }

  /** A paired customer account (one the connector already wrote its ListID on; vendors left out), with its office. */
  private async pairedAccount(
    office?: Office,
  ): Promise<{ accountid: string; office: Office; listId: string } | undefined> {
    const offices = office ? [office] : OFFICES;
    const filter = `(${offices.map((o) => `qbsync_companyfile eq '${o}'`).join(' or ')}) and qbsync_qblistid ne null and statecode eq 0 and customertypecode eq 3`;
    const rows = [];
    for await (const row of this.dynamics.queryRows(ENTITY_SETS.account, {
      select: ['accountid', 'qbsync_companyfile', 'qbsync_qblistid'],
      filter,
    })) {
      rows.push(row);
    }
    const row = this.pick(rows);
    if (!row) return undefined;
    return {
      accountid: String(row.accountid),
      office: row.qbsync_companyfile as Office,
      listId: String(row.qbsync_qblistid),
    };
  }

  private editQuickBooksPhone(office: Office, listId: string, value: string): void {
    const [customer] = askQuickBooks(
      this.file(office),
      `<CustomerQueryRq><ListID>${listId}</ListID></CustomerQueryRq>`,
    ) as CustomerRet[];
    if (!customer) throw new Error(`customer ${listId} is gone from ${office}`);
    askQuickBooks(
      this.file(office),
      `<CustomerModRq><CustomerMod><ListID>${listId}</ListID><EditSequence>${customer.editSequence}</EditSequence><Phone>${value}</Phone></CustomerMod></CustomerModRq>`,
    );
    this.remember(office, listId, { side: 'quickbooks', value, at: Date.now() });
  }

  private async editDynamicsPhone(account: { accountid: string; office: Office; listId: string }, value: string) {
    await this.dynamics.update(ENTITY_SETS.account, account.accountid, { telephone1: value });
    this.remember(account.office, account.listId, { side: 'dynamics', value, at: Date.now() });
  }

  /** One user action, drawn at random. */
  async step(): Promise<void> {
    const roll = this.random();
    try {
      if (roll < 0.25) await this.quickbooksEdit();
      else if (roll < 0.5) await this.dynamicsEdit();
      else if (roll < 0.65) await this.enterOrder();
      else if (roll < 0.75) await this.addAccount();
      else if (roll < 0.85) this.addCustomer();
      else this.takePayment();
    } catch (error) {
      // A user's write that failed (a Dataverse storm, a record just changed) is simply not made: nothing to expect.
      this.counts.skipped += 1;
      void error;
    }
  }

  private async quickbooksEdit(): Promise<void> {
    const account = await this.pairedAccount();
    if (!account) return;
    this.editQuickBooksPhone(account.office, account.listId, this.phone());
    this.counts.quickbooksEdits += 1;
  }

  async dynamicsEdit(): Promise<{ accountid: string; office: Office; listId: string } | undefined> {
    if (!this.dynamicsAvailable()) return undefined;
    const account = await this.pairedAccount();
    if (!account) return undefined;
    await this.editDynamicsPhone(account, this.phone());
    this.counts.dynamicsEdits += 1;
    return account;
  }

  /** Two edits of one account a moment apart (the chaos run arms a duplicated, delayed webhook for the first). */
  async dynamicsEditTwice(): Promise<boolean> {
    const account = await this.dynamicsEdit();
    if (!account) return false;
    await new Promise((r) => setTimeout(r, 300));
    await this.editDynamicsPhone(account, this.phone());
    this.counts.dynamicsEdits += 1;
    return true;
  }

  /** The same field of one customer edited on both sides at once. */
  async sameFieldBothSides(): Promise<boolean> {
    if (!this.dynamicsAvailable()) return false;
    const account = await this.pairedAccount();
    if (!account) return false;
    this.editQuickBooksPhone(account.office, account.listId, this.phone());
    await this.editDynamicsPhone(account, this.phone());
    this.counts.sameFieldBothSides += 1;
    return true;
  }

  private async enterOrder(): Promise<void> {
    if (!this.dynamicsAvailable()) return;
    // Orders go to east's customers: the products of the demo catalogue are priced for that office.
    const account = await this.pairedAccount('east');
    if (!account) return;
    const orderId = randomUUID();
    this.serial += 1;
    await this.dynamics.create(ENTITY_SETS.salesorder, {
      salesorderid: orderId,
      name: `Chaos order ${this.seed}-${this.serial}`,
      'customerid_account@odata.bind': `/accounts(${account.accountid})`,
    });
    this.orders.set(orderId, account.office);
    const lines = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < lines; i++) {
      await this.dynamics.create(ENTITY_SETS.salesorderdetail, {
        'salesorderid@odata.bind': `/salesorders(${orderId})`,
        'productid@odata.bind': `/products(${demoProductId(this.pick(ORDER_PRODUCTS) ?? 'HW-1001')})`,
        'uomid@odata.bind': `/uoms(${DEMO_UNIT_ID})`,
        quantity: 1 + Math.floor(this.random() * 5),
        priceperunit: Number((10 + this.random() * 500).toFixed(2)),
        ispriceoverridden: true,
      });
    }
    this.counts.ordersEntered += 1;
  }

  private async addAccount(): Promise<void> {
    if (!this.dynamicsAvailable()) return;
    const office = this.pick(OFFICES) ?? 'east';
    this.serial += 1;
    const name = `Chaos account ${this.seed}-${this.serial}`;
    const id = randomUUID();
    // The office is chosen by the user (the connector's company-file column on the form).
    await this.dynamics.create(ENTITY_SETS.account, {
      accountid: id,
      name,
      telephone1: this.phone(),
      qbsync_companyfile: office,
    });
    this.accountsAdded.push({ id, office, name });
    this.counts.dynamicsAccountsAdded += 1;
  }

  private addCustomer(): void {
    const office = this.pick(OFFICES) ?? 'east';
    this.serial += 1;
    const name = `Chaos customer ${this.seed}-${this.serial}`;
    askQuickBooks(
      this.file(office),
      `<CustomerAddRq><CustomerAdd><Name>${name}</Name><Phone>${this.phone()}</Phone></CustomerAdd></CustomerAddRq>`,
    );
    this.customersAdded.push({ office, name });
    this.counts.quickbooksCustomersAdded += 1;
  }

  private takePayment(): void {
    const file = this.file('east');
    const open = (
      askQuickBooks(file, '<InvoiceQueryRq><PaidStatus>NotPaidOnly</PaidStatus></InvoiceQueryRq>') as InvoiceRet[]
    ).filter((i) => Number(i.balanceRemaining ?? 0) > 0);
    const invoice = this.pick(open);
    if (!invoice) return;
    const balance = Number(invoice.balanceRemaining);
    // Half the time in full, else a part of it.
    const amount = this.random() < 0.5 ? balance : Math.max(0.01, Math.floor(balance * this.random() * 100) / 100);
    file.payInvoice(invoice.txnId, amount.toFixed(2));
    this.counts.payments += 1;
  }
}
