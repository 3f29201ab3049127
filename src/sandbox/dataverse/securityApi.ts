import { badRequest, DataverseError, ErrorCodes } from './dataverseError';
import { deterministicGuid } from './deterministicId';
import { type Schema, type TableDefinition } from './schema';
import { jsonResponse, type ApiRequest, type ApiResponse } from './webApi';
import { type StoredWebhook } from './webhooks';

/** `0x80040220` PrivilegeDenied: what Dataverse answers (HTTP 403) when the caller's roles lack a table privilege. */
const PRIVILEGE_DENIED = '0x80040220';

/** The privileges the sandbox enforces, by HTTP method on an entity set, as Dataverse names them (`prvReadAccount`). */
const PRIVILEGE_BY_METHOD: Record<string, 'Read' | 'Create' | 'Write' | 'Delete'> = {
  GET: 'Read',
  POST: 'Create',
  PATCH: 'Write',
  DELETE: 'Delete',
};
const ACCESS_RIGHTS = ['Create', 'Read', 'Write', 'Delete', 'Append', 'AppendTo'] as const;

/** ServiceEndpoint `authtype` values of a webhook (contract 8). */
const AUTH_TYPE_CODES = { HttpHeader: 4, WebhookKey: 5, HttpQueryString: 6 } as const;
const WEBHOOK_CONTRACT = 8;

export interface SecurityApiOptions {
  /** The application user the client credentials sign in as. */
  userId: string;
  businessUnitId: string;
  /** The sandbox's registered webhooks, read when asked. */
  webhooks: () => StoredWebhook[];
}

/**
 * The application user's security as the sandbox models it: one role granting every table privilege at Global depth,
 * minus the privileges a test withholds, enforced on every request to an entity set (a withheld `prvReadAccount`
 * refuses `GET accounts` with 403 PrivilegeDenied, as Dataverse does) and reported by `RetrieveUserPrivileges`; plus
 * the webhook registrations read back as `serviceendpoints` and `sdkmessageprocessingsteps`.
 */
export class SecurityApi {
  private readonly withheld = new Set<string>();

  constructor(
    private readonly schema: Schema,
    private readonly options: SecurityApiOptions,
  ) {}

  /** Takes a privilege (e.g. `prvWriteSalesOrder`) out of the application user's role; `restore` gives them all back. */
  withhold(privilegeName: string): void {
    this.withheld.add(privilegeName.toLowerCase());
  }

  restore(): void {
    this.withheld.clear();
  }

  handle = (request: ApiRequest, segments: string[], webApiUrl: string): ApiResponse | undefined => {
    const [first, second, ...rest] = segments.map((s) => decodeURIComponent(s));
    if (first === undefined) return undefined;
    const method = request.method.toUpperCase();
    const user = /^systemusers\((.*)\)$/.exec(first)?.[1];
    if (user !== undefined && /^Microsoft\.Dynamics\.CRM\.RetrieveUserPrivileges(\(\))?$/.test(second ?? '')) {
      if (method !== 'GET' || rest.length > 0)
        throw new DataverseError(405, '', 'RetrieveUserPrivileges is a function.');
      if (user.toLowerCase() !== this.options.userId) {
        throw new DataverseError(404, ErrorCodes.objectDoesNotExist, `systemuser With Id = ${user} Does Not Exist`);
      }
      return jsonResponse(200, {
        '@odata.context': `${webApiUrl}$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse`,
        RolePrivileges: this.rolePrivileges(),
      });
    }
    if (first === 'serviceendpoints' && second === undefined && method === 'GET') {
      return this.serviceEndpoints(request, webApiUrl);
    }
    if (first === 'sdkmessageprocessingsteps' && second === undefined && method === 'GET') {
      return this.steps(request, webApiUrl);
    }
    this.enforce(first, second, method);
    return undefined;
  };

  private rolePrivileges(): Array<Record<string, string>> {
    const privileges: Array<Record<string, string>> = [];
    for (const table of this.schema.tables.values()) {
      for (const right of ACCESS_RIGHTS) {
        const name = `prv${right}${table.schemaName}`;
        if (this.withheld.has(name.toLowerCase())) continue;
        privileges.push({
          Depth: 'Global',
          PrivilegeId: deterministicGuid(`privilege:${name}`),
          BusinessUnitId: this.options.businessUnitId,
          PrivilegeName: name,
        });
      }
    }
    return privileges;
  }

  /** Refuses a request to an entity set whose privilege is withheld; anything else is left to the other handlers. */
  private enforce(first: string, second: string | undefined, method: string): void {
    if (this.withheld.size === 0) return;
    // Converting an order creates an invoice: the caller needs the invoice's create privilege (prvCreateInvoice).
    if (first === 'ConvertSalesOrderToInvoice') return this.refuseWithout(this.schema.table('invoice'), 'Create');
    const set = /^([A-Za-z_]\w*)/.exec(first)?.[1];
    const table = set === undefined ? undefined : this.schema.bySet.get(set.toLowerCase());
    if (table === undefined) return;
    const bulk = /^Microsoft\.Dynamics\.CRM\.(Create|Update|Upsert)Multiple$/.exec(second ?? '')?.[1];
    const right = bulk === 'Create' ? 'Create' : bulk !== undefined ? 'Write' : PRIVILEGE_BY_METHOD[method];
    if (right === undefined) return;
    this.refuseWithout(table, right);
  }

  private refuseWithout(table: TableDefinition, right: string): void {
    const name = `prv${right}${table.schemaName}`;
    if (!this.withheld.has(name.toLowerCase())) return;
    throw new DataverseError(
      403,
      PRIVILEGE_DENIED,
      `Principal user (Id=${this.options.userId}, type=8, roleCount=1, businessUnitId=${this.options.businessUnitId}), ` +
        `is missing ${name} privilege (Id=${deterministicGuid(`privilege:${name}`)}) for entity '${table.logicalName}'. ` +
        `context.Caller=${this.options.userId}. Consider adding missed privilege to one of the principal (user/team) roles.`,
    );
  }

  private serviceEndpoints(request: ApiRequest, webApiUrl: string): ApiResponse {
    const filter = request.query.get('$filter');
    if (filter !== null && !/^\s*contract\s+eq\s+8\s*$/i.test(filter)) {
      throw badRequest(
        ErrorCodes.invalidArgument,
        `The serviceendpoints $filter '${filter}' is not supported by the sandbox.`,
      );
    }
    const value = this.options.webhooks().map((hook) => ({
      serviceendpointid: hook.id,
      name: `webhook ${hook.entity}`,
      contract: WEBHOOK_CONTRACT,
      url: hook.url,
      authtype: AUTH_TYPE_CODES[hook.authType],
      // The key is write-only in Dataverse: it is never read back.
      authvalue: null,
    }));
    return jsonResponse(200, { '@odata.context': `${webApiUrl}$metadata#serviceendpoints`, value });
  }

  /**
   * Steps of one service endpoint: `$filter=_eventhandler_value eq <id>`, with the message and table through
   * `$expand=sdkmessageid($select=name),sdkmessagefilterid($select=primaryobjecttypecode)`.
   */
  private steps(request: ApiRequest, webApiUrl: string): ApiResponse {
    const filter = request.query.get('$filter') ?? '';
    const handler = /^\s*_eventhandler_value\s+eq\s+([0-9a-f-]{36})\s*$/i.exec(filter)?.[1]?.toLowerCase();
    if (handler === undefined) {
      throw badRequest(
        ErrorCodes.invalidArgument,
        `The sandbox answers sdkmessageprocessingsteps only with $filter=_eventhandler_value eq <id>; got '${filter}'.`,
      );
    }
    const expand = request.query.get('$expand') ?? '';
    const withMessage = /\bsdkmessageid\b/.test(expand);
    const withFilter = /\bsdkmessagefilterid\b/.test(expand);
    const value = this.options
      .webhooks()
      .filter((hook) => hook.id.toLowerCase() === handler)
      .flatMap((hook) =>
        hook.messages.map((message) => {
          const messageId = deterministicGuid(`sdkmessage:${message}`);
          const filterId = deterministicGuid(`sdkmessagefilter:${message}:${hook.entity}`);
          return {
            sdkmessageprocessingstepid: deterministicGuid(`step:${hook.id}:${message}`),
            name: `${message} of ${hook.entity} to ${hook.url}`,
            stage: 40,
            mode: 1,
            statecode: 0,
            _eventhandler_value: hook.id,
            _sdkmessageid_value: messageId,
            _sdkmessagefilterid_value: filterId,
            ...(withMessage ? { sdkmessageid: { sdkmessageid: messageId, name: message } } : {}),
            ...(withFilter
              ? { sdkmessagefilterid: { sdkmessagefilterid: filterId, primaryobjecttypecode: hook.entity } }
              : {}),
          };
        }),
      );
    return jsonResponse(200, { '@odata.context': `${webApiUrl}$metadata#sdkmessageprocessingsteps`, value });
  }
}
