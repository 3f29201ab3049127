/**
 * An error the Web API answers with: `{"error":{"code":"<hex>","message":"…"}}` (the code is Dataverse's, not the HTTP status).
 * Codes follow reference §5/§6 and samples/dataverse/error-responses.json; the sample's 404/412 bodies carry an empty code.
 */
export class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DataverseError';
  }

  body(includeAnnotations: boolean): { error: Record<string, string> } {
    const error: Record<string, string> = { code: this.code, message: this.message };
    if (includeAnnotations) {
      error['@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus'] = '0';
      error['@Microsoft.PowerApps.CDS.InnerError.Message'] = this.message;
    }
    return { error };
  }
}

export const ErrorCodes = {
  objectDoesNotExist: '0x80040217',
  duplicateRecord: '0x80040237',
  duplicateRecordEntityKey: '0x80060892',
  entityKeyNotDefined: '0x80060890',
  invalidProperty: '0x80060888',
  maxLengthExceeded: '0x80044331',
  requiredMissing: '0x80040200',
  invalidArgument: '0x80040203',
  outsideValidRange: '0x8004431a',
  duplicateProductPriceLevel: '0x80043b08',
  /**
   * A product's default price list set on create, or to a price list without a price-list item for the product. The
   * platform's exact code and wording are not confirmed (assumption): InvalidArgument, as other product-catalog rule
   * violations the sandbox models.
   */
  productDefaultPriceListInvalid: '0x80040203',
  /** CannotUpdateBecauseItIsReadOnly (-2147220946), documented; see records.ts for where the sandbox answers it. */
  readOnlyRecord: '0x8004022e',
  productNotActive: '0x80043b1d',
  duplicateAttribute: '0x80047013',
  expiredOAuthToken: '0x80041d52',
  invalidAuthTicket: '0x80048306',
  requestsThrottled: '0x80072322',
  executionTimeThrottled: '0x80072321',
  concurrencyThrottled: '0x80072326',
  contentIdMissing: '0x8006088a',
  /** OptimisticConcurrencyNotEnabled (-2147088243). */
  optimisticConcurrencyNotEnabled: '0x8006088d',
} as const;

export function notFound(logicalName: string, id: string): DataverseError {
  return new DataverseError(404, '', `${logicalName} With Id = ${id} Does Not Exist`);
}

export function badRequest(code: string, message: string): DataverseError {
  return new DataverseError(400, code, message);
}
