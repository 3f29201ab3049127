import { z } from 'zod';

/**
 * How one connection syncs: what the operator decides rather than what the protocols dictate. The configuration file
 * carries one of these per connection; without a file (the sandbox) `sandboxSyncSettings` applies. Plain data, so it
 * travels in workflow inputs (it holds no secret).
 */

const fieldOwner = z.enum(['quickbooks', 'dynamics', 'latest']);

const qbRef = z
  .object({ listId: z.string().min(1).optional(), fullName: z.string().min(1).optional() })
  .refine((r) => r.listId !== undefined || r.fullName !== undefined, 'give listId or fullName');

const choiceMap = z.record(z.string(), z.number().int());

const refNumberRuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('orderNumber') }),
  z.object({ kind: z.literal('orderNumberSegment'), separator: z.string().min(1), index: z.number().int().min(0) }),
  z.object({ kind: z.literal('assignedByQuickBooks') }),
]);

const invoiceCursorStartSchema = z.union(
  [
    z.strictObject({ daysBack: z.number().int().min(0).max(36_500) }),
    z.strictObject({
      date: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
        .refine(
          (d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
          'is not a calendar date',
        ),
    }),
  ],
  { error: 'give { daysBack: <days> } or { date: YYYY-MM-DD }' },
);

export const syncSettingsSchema = z.object({
  /** Who wins a field both systems changed since the last sync (names as in `src/mapping/ownership.ts`). */
  ownership: z
    .object({
      owners: z.record(z.string(), fieldOwner).default({}),
      fallback: fieldOwner.default('latest'),
    })
    .default({ owners: {}, fallback: 'latest' }),
  /** Fixed QuickBooks-name → option-value pairs; names not listed are matched by label and created when missing. */
  choices: z
    .object({
      customerTypes: choiceMap.default({}),
      classes: choiceMap.default({}),
      terms: choiceMap.default({}),
    })
    .default({ customerTypes: {}, classes: {}, terms: {} }),
  items: z.object({
    /** The kind of QuickBooks item a product created in Dynamics becomes. */
    newItemKind: z.enum(['ItemService', 'ItemNonInventory', 'ItemInventory']).default('ItemNonInventory'),
    accounts: z.object({ income: qbRef, cogs: qbRef.optional(), asset: qbRef.optional() }),
    writeInItem: qbRef,
    discountItem: qbRef,
    freightItem: qbRef,
  }),
  invoices: z
    .object({
      refNumber: refNumberRuleSchema.default({ kind: 'orderNumber' }),
      /**
       * Seconds a sales order and its lines must go unsaved before it is invoiced: an order caught while its lines are
       * still being added would be invoiced short.
       */
      quietSeconds: z.number().int().min(0).max(86_400).default(30),
      /**
       * Where the invoice cursor starts on a connection's first poll (invoices are read for their payments): a date
       * (`{ date: 2024-01-01 }`) or days before that poll. Without it the first poll would read every invoice ever.
       */
      cursorStart: invoiceCursorStartSchema.default({ daysBack: 90 }),
      /**
       * How a Dynamics order reaches QuickBooks: `invoice` (default) invoices it directly; `salesOrder` sends it as a
       * QuickBooks sales order for accounting to review and invoice there (fully or in part), and the connector then
       * follows each invoice linked to it back onto the order and its invoice rows.
       */
      via: z.enum(['invoice', 'salesOrder']).default('invoice'),
    })
    .default({ refNumber: { kind: 'orderNumber' }, quietSeconds: 30, cursorStart: { daysBack: 90 }, via: 'invoice' }),
  /**
   * Won opportunities: the account always becomes a customer at once; `estimates: true` also makes a QuickBooks
   * estimate of the opportunity's products (default off: many teams quote in Dynamics only).
   */
  opportunities: z.object({ estimates: z.boolean().default(false) }).default({ estimates: false }),
  /**
   * Accounts created in Dynamics (no company file yet) become customers in this connection's company file. At most one
   * connection of an organisation should say true, or each new account would be created in several company files.
   */
  receivesNewAccounts: z.boolean().default(false),
  /**
   * A poll's batch of at least this many QuickBooks records (an initial load, a large change) is written into Dynamics
   * in record groups, each group one workflow whose history is its records' audit trail; a smaller batch goes record
   * by record, each in its own run. Records a group cannot finish alone (a conflict QuickBooks must take, a failed
   * write) still get their own run. 0: never in groups.
   */
  recordGroupsFrom: z.number().int().min(0).default(100),
  /**
   * Text QuickBooks cannot store (outside Windows-1252: Greek, Cyrillic, Chinese, emoji): `transliterate` sends the
   * nearest Western text (recorded in the run's history), `fail` fails that record naming the field and characters.
   */
  quickbooksText: z
    .object({ outsideWindows1252: z.enum(['transliterate', 'fail']).default('transliterate') })
    .default({ outsideWindows1252: 'transliterate' }),
});

export type SyncSettings = z.infer<typeof syncSettingsSchema>;

/** The sandbox companies' accounts and special items (see `src/sandbox/quickbooks/demoCompany.ts`). */
export function sandboxSyncSettings(connection: string): SyncSettings {
  return syncSettingsSchema.parse({
    items: {
      newItemKind: 'ItemNonInventory',
      accounts: {
        income: { fullName: 'Sales' },
        cogs: { fullName: 'Cost of Goods Sold' },
        asset: { fullName: 'Inventory Asset' },
      },
      writeInItem: { fullName: 'Write-in' },
      discountItem: { fullName: 'Discount' },
      freightItem: { fullName: 'Freight' },
    },
    // The sandbox numbers orders `ORD-01001-AB12CD`; the serial is unique across the organisation and fits 11 chars.
    invoices: { refNumber: { kind: 'orderNumberSegment', separator: '-', index: 1 } },
    receivesNewAccounts: connection === 'east',
    // The east office quotes in QuickBooks: its won opportunities become estimates; the west office's only customers.
    opportunities: { estimates: connection === 'east' },
  });
}
