import {
  type ItemInventoryAddFields,
  type ItemInventoryModFields,
  type ItemInventoryRet,
  type ItemNonInventoryAddFields,
  type ItemNonInventoryModFields,
  type ItemNonInventoryRet,
  type ItemServiceAddFields,
  type ItemServiceModFields,
  type ItemServiceRet,
  type QbRef,
} from '../qbxml/requests';
import { quickBooksActive, stateOfQuickBooks } from './activeStatus';
import { ProductType, type ProductRecord, type ProductWrite } from './dataverseRows';
import { checkKeyValue, checkMaxLength, quickBooksName, requireText, text } from './fields';
import { fitToColumn, PRODUCT_COLUMN_LIMITS } from './columnLimits';
import { decimalText, readDecimal, sameDecimal } from './money';
import { Issues, type MappingResult } from './result';

export type SyncedItem = ItemServiceRet | ItemNonInventoryRet | ItemInventoryRet;
export type ItemKind = SyncedItem['kind'];

/** qbXML item name limit (31, shorter than customers') and Dataverse product column limits. */
const ITEM_LIMITS = { name: 31 } as const;
const PRODUCT_LIMITS = { name: 100, productnumber: 100, description: 2000 } as const;

/**
 * Product type per QuickBooks item kind. A non-inventory part is sold but not stocked, which Dynamics calls a
 * miscellaneous charge; "Sales Inventory" is reserved for items QuickBooks counts.
 */
const PRODUCT_TYPE_OF_KIND: Readonly<Record<ItemKind, number>> = {
  ItemInventory: ProductType.SalesInventory,
  ItemNonInventory: ProductType.MiscellaneousCharges,
  ItemService: ProductType.Services,
};

/** The sales side of an item, wherever its kind keeps it. */
interface ItemSales {
  description: string | undefined;
  price: string | undefined;
  pricePercent: string | undefined;
  cost: string | undefined;
}

function itemSales(item: SyncedItem): ItemSales {
  if (item.kind === 'ItemInventory') {
    return { description: item.salesDesc, price: item.salesPrice, pricePercent: undefined, cost: item.purchaseCost };
  }
  if (item.salesAndPurchase !== undefined) {
    const sp = item.salesAndPurchase;
    return { description: sp.salesDesc, price: sp.salesPrice, pricePercent: undefined, cost: sp.purchaseCost };
  }
  const so = item.salesOrPurchase;
  return { description: so?.desc, price: so?.price, pricePercent: so?.pricePercent, cost: undefined };
}

/**
 * A QuickBooks item as a Dynamics product. `productnumber` is the item's FullName, unique within the company
 * file; `name` is the leaf name. A percentage price has no product-price equivalent and is reported.
 */
export function itemToProduct(item: SyncedItem, ctx: { companyFile: string }): MappingResult<ProductWrite> {
  const issues = new Issues();
  const companyFile = checkKeyValue(issues, 'companyFile', ctx.companyFile) ?? '';
  const listId = checkKeyValue(issues, 'listId', item.listId) ?? '';
  const name = requireText(issues, 'name', item.name) ?? '';
  checkMaxLength(issues, 'name', name, PRODUCT_LIMITS.name);
  const productnumber = text(item.fullName) ?? name;
  checkMaxLength(issues, 'fullName', productnumber, PRODUCT_LIMITS.productnumber);

  const sales = itemSales(item);
  const description = text(sales.description);
  checkMaxLength(issues, 'salesDesc', description, PRODUCT_LIMITS.description);
  if (text(sales.pricePercent) !== null) {
    issues.add('salesOrPurchase.pricePercent', 'unsupported', 'a percentage price cannot become a product price');
  }
  const amounts = productAmounts(item, issues);

  const product: ProductWrite = {
    qbsync_companyfile: companyFile,
    qbsync_qblistid: listId,
    name,
    productnumber,
    description,
    producttypecode: PRODUCT_TYPE_OF_KIND[item.kind],
    price: amounts.price,
    standardcost: amounts.standardcost,
    statecode: stateOfQuickBooks(item.isActive),
  };
  if (item.kind === 'ItemInventory') product.quantityonhand = amounts.quantityonhand;
  return issues.result(product);
}

/** QuickBooks field → the product column it feeds, for the amounts whose limits differ between the systems. */
const AMOUNT_SOURCES = {
  price: 'salesPrice',
  standardcost: 'purchaseCost',
  quantityonhand: 'quantityOnHand',
} as const satisfies Record<keyof typeof PRODUCT_COLUMN_LIMITS, string>;

interface ProductAmounts {
  price: string | null;
  standardcost: string | null;
  quantityonhand: string | null;
  /** Why a value QuickBooks holds is not carried (its column is left empty), in words for the record's run. */
  notCarried: string[];
}

/**
 * The item's price, cost and stock as the product columns store them: rounded to the column's decimals (so the merge
 * base holds what Dataverse stores, and 12.345 written as 12.35 is not read back as a Dynamics edit), and empty when
 * the column cannot hold the value at all (negative stock), which is reported instead of failing the whole record.
 */
function productAmounts(item: SyncedItem, issues: Issues): ProductAmounts {
  const sales = itemSales(item);
  const given: Record<keyof ProductAmounts & keyof typeof AMOUNT_SOURCES, string | undefined> = {
    price: sales.price,
    standardcost: sales.cost,
    quantityonhand: item.kind === 'ItemInventory' ? item.quantityOnHand : undefined,
  };
  const amounts: ProductAmounts = { price: null, standardcost: null, quantityonhand: null, notCarried: [] };
  for (const column of ['price', 'standardcost', 'quantityonhand'] as const) {
    const value = readDecimal(issues, AMOUNT_SOURCES[column], given[column]);
    if (value === null) continue;
    const fit = fitToColumn(column, PRODUCT_COLUMN_LIMITS[column], value);
    if (fit.carried) amounts[column] = decimalText(fit.value);
    else amounts.notCarried.push(`QuickBooks ${AMOUNT_SOURCES[column]} is not carried: ${fit.reason}; left empty`);
  }
  return amounts;
}

/** The item's values a product cannot hold (left empty on the product), in words; empty when every value fits. */
export function itemValuesNotCarried(item: SyncedItem): string[] {
  return productAmounts(item, new Issues()).notCarried;
}

/** A QuickBooks amount as the product column would store it: the form it is compared in against the row's. */
function asProductStores(column: keyof typeof PRODUCT_COLUMN_LIMITS, value: string | undefined): string | undefined {
  const read = readDecimal(new Issues(), column, value);
  if (read === null) return value;
  const fit = fitToColumn(column, PRODUCT_COLUMN_LIMITS[column], read);
  return fit.carried ? decimalText(fit.value) : value;
}

export interface ItemAccounts {
  income: QbRef;
  /** Cost of goods sold (inventory) or expense account (bought-and-sold services / non-inventory parts). */
  cogs?: QbRef;
  asset?: QbRef;
}

export interface ItemAddContext {
  defaultAccounts: ItemAccounts;
  itemKind: ItemKind;
}

export type ItemAdd =
  | { kind: 'ItemService'; fields: ItemServiceAddFields }
  | { kind: 'ItemNonInventory'; fields: ItemNonInventoryAddFields }
  | { kind: 'ItemInventory'; fields: ItemInventoryAddFields };

export type ItemMod =
  | { kind: 'ItemService'; fields: ItemServiceModFields }
  | { kind: 'ItemNonInventory'; fields: ItemNonInventoryModFields }
  | { kind: 'ItemInventory'; fields: ItemInventoryModFields };

interface ProductSales {
  name: string;
  isActive: boolean;
  description: string | undefined;
  price: string | undefined;
  cost: string | undefined;
}

function productSales(p: ProductRecord, issues: Issues): ProductSales {
  const name = quickBooksName(issues, 'name', p.name, ITEM_LIMITS.name) ?? '';
  const price = readDecimal(issues, 'price', p.price);
  const cost = readDecimal(issues, 'standardcost', p.standardcost);
  return {
    name,
    isActive: quickBooksActive(p.statecode),
    description: text(p.description) ?? undefined,
    price: price === null ? undefined : decimalText(price),
    cost: cost === null ? undefined : decimalText(cost),
  };
}

function requireAccount(issues: Issues, field: string, ref: QbRef | undefined): QbRef | undefined {
  if (ref === undefined || (text(ref.listId) === null && text(ref.fullName) === null)) {
    issues.add(field, 'required', `${field} must name a QuickBooks account for this item kind`);
    return undefined;
  }
  return ref;
}

/**
 * A product created in Dynamics as a QuickBooks item of the configured kind. A product with a standard cost
 * becomes a bought-and-sold item (SalesAndPurchase) so the cost is kept; otherwise a sales-only item.
 */
export function productToItemAdd(p: ProductRecord, ctx: ItemAddContext): MappingResult<ItemAdd> {
  const issues = new Issues();
  const s = productSales(p, issues);
  const accounts = ctx.defaultAccounts;
  const income = requireAccount(issues, 'defaultAccounts.income', accounts.income);

  if (ctx.itemKind === 'ItemInventory') {
    const cogs = requireAccount(issues, 'defaultAccounts.cogs', accounts.cogs);
    const asset = requireAccount(issues, 'defaultAccounts.asset', accounts.asset);
    const fields: ItemInventoryAddFields = { name: s.name };
    if (!s.isActive) fields.isActive = false;
    if (s.description !== undefined) fields.salesDesc = s.description;
    if (s.price !== undefined) fields.salesPrice = s.price;
    if (income !== undefined) fields.incomeAccountRef = income;
    if (s.cost !== undefined) fields.purchaseCost = s.cost;
    if (cogs !== undefined) fields.cogsAccountRef = cogs;
    if (asset !== undefined) fields.assetAccountRef = asset;
    return issues.result<ItemAdd>({ kind: 'ItemInventory', fields });
  }

  const fields: ItemServiceAddFields = { name: s.name };
  if (!s.isActive) fields.isActive = false;
  if (s.cost !== undefined) {
    const expense = requireAccount(issues, 'defaultAccounts.cogs', accounts.cogs);
    fields.salesAndPurchase = {
      ...(s.description === undefined ? {} : { salesDesc: s.description }),
      ...(s.price === undefined ? {} : { salesPrice: s.price }),
      ...(income === undefined ? {} : { incomeAccountRef: income }),
      purchaseCost: s.cost,
      ...(expense === undefined ? {} : { expenseAccountRef: expense }),
    };
  } else {
    fields.salesOrPurchase = {
      ...(s.description === undefined ? {} : { desc: s.description }),
      ...(s.price === undefined ? {} : { price: s.price }),
      ...(income === undefined ? {} : { accountRef: income }),
    };
  }
  return issues.result<ItemAdd>(
    ctx.itemKind === 'ItemService' ? { kind: 'ItemService', fields } : { kind: 'ItemNonInventory', fields },
  );
}

/**
 * The item Mod that makes QuickBooks agree with the product (name, active status, sales description, price, cost), or null when
 * nothing differs. Accounts are never touched by a Mod: they are bookkeeping decisions made in QuickBooks. A cost
 * on an item QuickBooks keeps as sales-only cannot be stored there and is reported.
 */
export function productToItemMod(p: ProductRecord, current: SyncedItem): MappingResult<ItemMod | null> {
  const issues = new Issues();
  const s = productSales(p, issues);
  if (text(current.editSequence) === null)
    issues.add('current.editSequence', 'required', 'a Mod needs the EditSequence');
  if (issues.failed) return issues.result(null);

  const have = itemSales(current);
  const nameChanged = s.name !== current.name;
  const descChanged = (s.description ?? null) !== text(have.description);
  // QuickBooks keeps more decimals than the product: 12.345 there and 12.35 here agree, and no Mod rounds QuickBooks.
  const priceChanged = s.price !== undefined && !sameDecimal(s.price, asProductStores('price', have.price));
  const costChanged = s.cost !== undefined && !sameDecimal(s.cost, asProductStores('standardcost', have.cost));
  const activeChanged = s.isActive !== (current.isActive ?? true);
  if (!nameChanged && !descChanged && !priceChanged && !costChanged && !activeChanged) return issues.result(null);

  const identity = { listId: current.listId, editSequence: current.editSequence };
  const name = { ...(nameChanged ? { name: s.name } : {}), ...(activeChanged ? { isActive: s.isActive } : {}) };
  const desc = descChanged ? (s.description ?? '') : undefined;

  if (current.kind === 'ItemInventory') {
    const fields: ItemInventoryModFields = { ...identity, ...name };
    if (desc !== undefined) fields.salesDesc = desc;
    if (priceChanged) fields.salesPrice = s.price;
    if (costChanged) fields.purchaseCost = s.cost;
    return issues.result<ItemMod | null>({ kind: 'ItemInventory', fields });
  }

  const fields: ItemServiceModFields = { ...identity, ...name };
  if (current.salesAndPurchase !== undefined) {
    if (desc !== undefined || priceChanged || costChanged) {
      fields.salesAndPurchase = {
        ...(desc === undefined ? {} : { salesDesc: desc }),
        ...(priceChanged ? { salesPrice: s.price } : {}),
        ...(costChanged ? { purchaseCost: s.cost } : {}),
      };
    }
  } else {
    if (costChanged) {
      issues.add(
        'standardcost',
        'unsupported',
        `QuickBooks keeps ${current.fullName ?? current.name} as a sales-only item, which has no cost`,
      );
    }
    if (desc !== undefined || priceChanged) {
      fields.salesOrPurchase = {
        ...(desc === undefined ? {} : { desc }),
        ...(priceChanged ? { price: s.price } : {}),
      };
    }
  }
  return issues.result<ItemMod | null>(
    current.kind === 'ItemService' ? { kind: 'ItemService', fields } : { kind: 'ItemNonInventory', fields },
  );
}
