import { badRequest, DataverseError, ErrorCodes } from './dataverseError';
import { deterministicGuid } from './deterministicId';
import { type CONNECTOR_ROLE_NAME, connectorRolePrivileges, privilegeEntityOf } from '../../dataverse/connectorRole';
import { type Schema } from './schema';
import { jsonResponse, type ApiRequest, type ApiResponse } from './webApi';
import { type StoredWebhook } from './webhooks';

/** `0x80040220` PrivilegeDenied: what Dataverse answers (HTTP 403) when the caller's roles lack a table privilege. */
const PRIVILEGE_DENIED = '0x80040220';

/**
 * The privileges the sandbox enforces, by HTTP method on an entity set, as Dataverse names them (`prvReadAccount`;
 * `prvReadOrder` for sales orders and their lines: `connectorRole.ts` says which tables are governed by another's).
 */
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

/** Roles the sandbox knows: an administrator's (every privilege) and the connector's least-privilege role. */
export type SandboxRole = 'System Administrator' | typeof CONNECTOR_ROLE_NAME;

/** An application user: the app registration it signs in as and its one role. */
export interface ApplicationUser {
  clientId: string;
  userId: string;
  role: SandboxRole;
}

export interface SecurityApiOptions {
  /** The application users; the first is the one a request without a known caller runs as. */
  users: readonly ApplicationUser[];
  businessUnitId: string;
  organizationId: () => string;
  /** The sandbox's registered webhooks, read when asked. */
  webhooks: () => StoredWebhook[];
}

/**
 * Metadata writes and the privilege each needs, with the entity the refusal names. `InsertOptionValue` needs
 * `prvWriteOptionSet` (Microsoft's "InsertOptionValue message privileges"); the column and key privileges follow the
 * same naming and, like the entity names in the refusal, are assumptions not confirmed against a real organisation.
 */
const METADATA_PRIVILEGES = {
  insertOption: { name: 'prvWriteOptionSet', entity: 'optionset' },
  writeOptionSet: { name: 'prvWriteOptionSet', entity: 'optionset' },
  createOptionSet: { name: 'prvCreateOptionSet', entity: 'optionset' },
  createAttribute: { name: 'prvCreateAttribute', entity: 'attribute' },
  createKey: { name: 'prvCreateEntityKey', entity: 'entitykey' },
  deleteKey: { name: 'prvDeleteEntityKey', entity: 'entitykey' },
} as const;
type MetadataWrite = keyof typeof METADATA_PRIVILEGES;

/**
 * The application users' security as the sandbox models it: each user has one role, an administrator's (every
 * privilege at Global depth) or the connector's (`dataverse/connectorRole.ts`, the role docs/deployment.md gives),
 * minus the privileges a test withholds. Enforced on every request to an entity set (a missing `prvReadAccount`
 * refuses `GET accounts` with 403 PrivilegeDenied, as Dataverse does) and on metadata writes (a role without
 * `prvWriteOptionSet` cannot `InsertOptionValue`), reported by `RetrieveUserPrivileges` and `WhoAmI`; plus the webhook
 * registrations read back as `serviceendpoints` and `sdkmessageprocessingsteps`. Reading metadata needs no privilege
 * here (assumption: every role may read table and column definitions).
 */
/** `RetrieveUserPrivileges`' depths: User, Business Unit, Parent: Child Business Units, Organization in the role editor. */
export type PrivilegeDepth = 'Basic' | 'Local' | 'Deep' | 'Global';

export class SecurityApi {
  private readonly withheld = new Set<string>();
  private readonly depths = new Map<string, PrivilegeDepth>();

  constructor(
    private readonly schema: Schema,
    private readonly options: SecurityApiOptions,
  ) {}

  /** Takes a privilege (e.g. `prvWriteSalesOrder`) out of every role; `restore` gives them back. */
  withhold(privilegeName: string): void {
    this.withheld.add(privilegeName.toLowerCase());
  }

  /** Reports a privilege at a lower depth than Global (the sandbox still answers every row: see server.ts). */
  limitDepth(privilegeName: string, depth: PrivilegeDepth): void {
    this.depths.set(privilegeName.toLowerCase(), depth);
  }

  restore(): void {
    this.withheld.clear();
    this.depths.clear();
  }

  handle = (request: ApiRequest, segments: string[], webApiUrl: string): ApiResponse | undefined => {
    const [first, second, ...rest] = segments.map((s) => decodeURIComponent(s));
    if (first === undefined) return undefined;
    const method = request.method.toUpperCase();
    const caller = this.callerOf(request);
    if ((first === 'WhoAmI' || first === 'WhoAmI()') && second === undefined) {
      return jsonResponse(200, {
        '@odata.context': `${webApiUrl}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: this.options.businessUnitId,
        UserId: caller.userId,
        OrganizationId: this.options.organizationId(),
      });
    }
    const user = /^systemusers\((.*)\)$/.exec(first)?.[1];
    if (user !== undefined && /^Microsoft\.Dynamics\.CRM\.RetrieveUserPrivileges(\(\))?$/.test(second ?? '')) {
      if (method !== 'GET' || rest.length > 0)
        throw new DataverseError(405, '', 'RetrieveUserPrivileges is a function.');
      const target = this.options.users.find((u) => u.userId === user.toLowerCase());
      if (target === undefined) {
        throw new DataverseError(404, ErrorCodes.objectDoesNotExist, `systemuser With Id = ${user} Does Not Exist`);
      }
      return jsonResponse(200, {
        '@odata.context': `${webApiUrl}$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse`,
        RolePrivileges: this.rolePrivileges(target),
      });
    }
    if (first === 'serviceendpoints' && second === undefined && method === 'GET') {
      return this.serviceEndpoints(request, webApiUrl);
    }
    if (first === 'sdkmessageprocessingsteps' && second === undefined && method === 'GET') {
      return this.steps(request, webApiUrl);
    }
    const metadataWrite = metadataWriteOf(first, second, method);
    if (metadataWrite !== undefined) {
      const { name, entity } = METADATA_PRIVILEGES[metadataWrite];
      if (!this.holds(caller, name)) throw this.privilegeDenied(caller, name, entity);
      return undefined;
    }
    this.enforce(caller, first, second, method);
    return undefined;
  };

  /** The application user a request runs as: the one whose app signed its token. */
  private callerOf(request: ApiRequest): ApplicationUser {
    const users = this.options.users;
    const found = users.find((u) => u.clientId === request.caller);
    if (found !== undefined) return found;
    const first = users[0];
    if (first === undefined) throw new DataverseError(500, '', 'The sandbox has no application user.');
    return first;
  }

  private holds(user: ApplicationUser, privilegeName: string): boolean {
    const name = privilegeName.toLowerCase();
    if (this.withheld.has(name)) return false;
    if (user.role === 'System Administrator') return true;
    return connectorRolePrivileges().some((p) => p.toLowerCase() === name);
  }

  private rolePrivileges(user: ApplicationUser): Array<Record<string, string>> {
    const names =
      user.role === 'System Administrator'
        ? [
            ...new Set([
              ...[...this.schema.tables.values()].flatMap((table) =>
                ACCESS_RIGHTS.map((right) => `prv${right}${privilegeEntityOf(table)}`),
              ),
              ...Object.values(METADATA_PRIVILEGES).map((p) => p.name),
            ]),
          ]
        : connectorRolePrivileges();
    return names
      .filter((name) => this.holds(user, name))
      .map((name) => ({
        Depth: this.depths.get(name.toLowerCase()) ?? 'Global',
        PrivilegeId: deterministicGuid(`privilege:${name}`),
        BusinessUnitId: this.options.businessUnitId,
        PrivilegeName: name,
      }));
  }

  /** Refuses a request to an entity set whose privilege the caller lacks; anything else is left to the other handlers. */
  private enforce(user: ApplicationUser, first: string, second: string | undefined, method: string): void {
    // Converting an order creates an invoice: the caller needs the invoice's create privilege (prvCreateInvoice).
    if (first === 'ConvertSalesOrderToInvoice') {
      if (!this.holds(user, 'prvCreateInvoice')) throw this.privilegeDenied(user, 'prvCreateInvoice', 'invoice');
      return;
    }
    const set = /^([A-Za-z_]\w*)/.exec(first)?.[1];
    const table = set === undefined ? undefined : this.schema.bySet.get(set.toLowerCase());
    if (table === undefined) return;
    const bulk = /^Microsoft\.Dynamics\.CRM\.(Create|Update|Upsert)Multiple$/.exec(second ?? '')?.[1];
    // A bound action on a row (publishing a product) changes it: Write, not Create.
    const boundAction = bulk === undefined && method === 'POST' && /^Microsoft\.Dynamics\.CRM\./.test(second ?? '');
    const right =
      bulk === 'Create' ? 'Create' : bulk !== undefined || boundAction ? 'Write' : PRIVILEGE_BY_METHOD[method];
    if (right === undefined) return;
    const name = `prv${right}${privilegeEntityOf(table)}`;
    if (!this.holds(user, name)) throw this.privilegeDenied(user, name, table.logicalName);
  }

  /** Dataverse's refusal of a missing privilege (403 PrivilegeDenied), naming the privilege and the caller. */
  private privilegeDenied(user: ApplicationUser, name: string, entity: string): DataverseError {
    return new DataverseError(
      403,
      PRIVILEGE_DENIED,
      `Principal user (Id=${user.userId}, type=8, roleCount=1, businessUnitId=${this.options.businessUnitId}), ` +
        `is missing ${name} privilege (Id=${deterministicGuid(`privilege:${name}`)}) for entity '${entity}'. ` +
        `context.Caller=${user.userId}. Consider adding missed privilege to one of the principal (user/team) roles.`,
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

/** The metadata write a request is, if it is one. */
function metadataWriteOf(first: string, second: string | undefined, method: string): MetadataWrite | undefined {
  if (first === 'InsertOptionValue' || first === 'Microsoft.Dynamics.CRM.InsertOptionValue')
    return method === 'POST' ? 'insertOption' : undefined;
  if (first === 'GlobalOptionSetDefinitions' && method === 'POST') return 'createOptionSet';
  if (first.startsWith('GlobalOptionSetDefinitions(') && (method === 'PUT' || method === 'PATCH'))
    return 'writeOptionSet';
  if (!first.startsWith('EntityDefinitions(') || second === undefined) return undefined;
  if (second === 'Attributes' && method === 'POST') return 'createAttribute';
  if (second === 'Keys' && method === 'POST') return 'createKey';
  if (second.startsWith('Keys(') && method === 'DELETE') return 'deleteKey';
  return undefined;
}
