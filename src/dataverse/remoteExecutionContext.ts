import Decimal from 'decimal.js';

/**
 * Parser for the body Dataverse posts to a webhook: a JSON-serialised `Microsoft.Xrm.Sdk.RemoteExecutionContext`
 * (reference/dataverse.md §8.3). The .NET data-contract serialiser writes every dictionary as an array of
 * `{ key, value }` and tags typed values with `__type: "<Type>:<namespace>"`; this turns that into plain maps and
 * plain values so nothing downstream has to know the wire encoding.
 */

export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';
}

export interface DataverseEntityReference {
  logicalName: string;
  id: string;
  name?: string;
}

/** An `Entity` nested inside a value (e.g. an activity party list). */
export interface DataverseEntityValue {
  logicalName: string;
  id: string;
  attributes: DataverseValueMap;
}

export type DataverseScalar = string | number | boolean | null;

export type DataverseValue =
  DataverseScalar | DataverseEntityReference | DataverseEntityValue | DataverseValueMap | DataverseValue[];

export interface DataverseValueMap {
  [key: string]: DataverseValue;
}

export interface DataverseChange {
  /** `Create`, `Update`, `Delete`, or any other message a step is registered for. */
  messageName: string;
  entityName: string;
  /** Primary row id, lower-cased (Dataverse GUIDs are case-insensitive; the Web API returns lower case). */
  entityId: string;
  organizationName?: string;
  correlationId: string;
  operationId?: string;
  requestId?: string;
  /** When Dataverse created the operation, ISO 8601 (UTC). */
  operationCreatedOn?: string;
  /** Columns written by the message (the `Target` entity); empty for Delete or a shortened (over 256 KB) body. */
  attributes: Record<string, DataverseValue>;
  preImage?: Record<string, DataverseValue>;
  postImage?: Record<string, DataverseValue>;
  /** Scalar shared variables of this context and its parents; the `?tag=` of a write shows up here as `tag`. */
  sharedVariables: Record<string, string | number | boolean | null>;
  initiatingUserId?: string;
  depth?: number;
  /** 40 = post-operation. */
  stage?: number;
  /** 0 = synchronous, 1 = asynchronous. */
  mode?: number;
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// `\/Date(1506409448000)\/` arrives as `/Date(1506409448000)/` once JSON-decoded; an offset may follow the milliseconds.
const wcfDatePattern = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;
const decimalPattern = /^-?\d+(\.\d+)?$/;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `"EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts"` → `EntityReference`. */
function typeNameOf(value: JsonObject): string | undefined {
  const tag = value.__type;
  if (typeof tag !== 'string') return undefined;
  const colon = tag.indexOf(':');
  return colon === -1 ? tag : tag.slice(0, colon);
}

function optionalString(obj: JsonObject, field: string, where: string): string | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new WebhookPayloadError(`${where}.${field} must be a string, got ${kindOf(value)}`);
  return value;
}

function requiredString(obj: JsonObject, field: string, where: string): string {
  const value = optionalString(obj, field, where);
  if (value === undefined || value.length === 0) throw new WebhookPayloadError(`${where}.${field} is missing`);
  return value;
}

function guid(obj: JsonObject, field: string, where: string): string {
  const value = requiredString(obj, field, where);
  if (!guidPattern.test(value))
    throw new WebhookPayloadError(`${where}.${field} is not a GUID: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

function optionalInteger(obj: JsonObject, field: string, where: string): number | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new WebhookPayloadError(`${where}.${field} must be an integer, got ${kindOf(value)}`);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `/Date(ms[±hhmm])/` → ISO 8601. The milliseconds are already UTC; the offset only says where the server was. */
export function parseWcfDate(text: string): string | undefined {
  const match = wcfDatePattern.exec(text);
  if (!match?.[1]) return undefined;
  const date = new Date(Number(match[1]));
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString();
}

/**
 * Money → decimal string. JSON has one number type and `JSON.parse` decodes it into an IEEE-754 double, which holds
 * about 15–17 significant decimal digits. Dataverse money has at most 4 decimal places, so every amount up to
 * 99,999,999,999.9999 (15 digits) survives the trip exactly and `Decimal` prints the shortest text that round-trips,
 * i.e. the digits Dataverse sent. Larger amounts (Dataverse allows up to ±922,337,203,685,477) may already have lost
 * digits inside `JSON.parse` before we see them, which is one more reason the sync re-reads amounts from the Web API
 * (annotated as decimals there) rather than trusting this body. No arithmetic happens here on floats either way.
 */
function moneyText(value: unknown, where: string): string {
  if (typeof value === 'string') {
    if (!decimalPattern.test(value)) throw new WebhookPayloadError(`${where}: Money value is not a decimal: ${value}`);
    return new Decimal(value).toFixed();
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new WebhookPayloadError(`${where}: Money value must be a number, got ${kindOf(value)}`);
  }
  return new Decimal(value).toFixed();
}

function entityReference(value: JsonObject, where: string): DataverseEntityReference {
  const ref: DataverseEntityReference = {
    logicalName: requiredString(value, 'LogicalName', where),
    id: guid(value, 'Id', where),
  };
  const name = optionalString(value, 'Name', where);
  if (name !== undefined) ref.name = name;
  return ref;
}

function entity(value: JsonObject, where: string): DataverseEntityValue {
  const id = value.Id;
  return {
    logicalName: requiredString(value, 'LogicalName', where),
    // A Target of a Create may carry the empty GUID before the platform assigns one; keep whatever it says.
    id: typeof id === 'string' ? id.toLowerCase() : '',
    attributes: keyValueMap(value.Attributes ?? [], `${where}.Attributes`),
  };
}

function isKeyValuePair(value: unknown): value is { key: string; value?: unknown } {
  return (
    isObject(value) &&
    typeof value.key === 'string' &&
    Object.keys(value).every((k) => k === 'key' || k === 'value' || k === '__type')
  );
}

/** Array of `{ key, value }` → map. Later duplicates win, as they would in the .NET dictionary's last write. */
function keyValueMap(list: unknown, where: string): DataverseValueMap {
  if (!Array.isArray(list))
    throw new WebhookPayloadError(`${where} must be an array of {key, value}, got ${kindOf(list)}`);
  const map: DataverseValueMap = {};
  list.forEach((entry: unknown, index) => {
    if (!isObject(entry) || typeof entry.key !== 'string') {
      throw new WebhookPayloadError(`${where}[${index}] must be an object with a string "key"`);
    }
    map[entry.key] = convertValue(entry.value, `${where}[${entry.key}]`);
  });
  return map;
}

function convertValue(value: unknown, where: string): DataverseValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return parseWcfDate(value) ?? value;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new WebhookPayloadError(`${where}: number is not finite`);
    return value;
  }
  if (Array.isArray(value)) {
    // A list made only of {key, value} pairs is a serialised dictionary (e.g. ChangedEntityTypes); others stay lists.
    if (value.length > 0 && value.every(isKeyValuePair)) return keyValueMap(value, where);
    return value.map((item: unknown, index) => convertValue(item, `${where}[${index}]`));
  }
  if (!isObject(value)) throw new WebhookPayloadError(`${where}: unsupported value of type ${kindOf(value)}`);

  switch (typeNameOf(value)) {
    case 'EntityReference':
      return entityReference(value, where);
    case 'OptionSetValue': {
      const option = value.Value;
      if (typeof option !== 'number' || !Number.isInteger(option)) {
        throw new WebhookPayloadError(`${where}: OptionSetValue.Value must be an integer, got ${kindOf(option)}`);
      }
      return option;
    }
    case 'Money':
      return moneyText(value.Value, where);
    case 'Entity':
      return entity(value, where);
    case 'EntityCollection': {
      const entities = value.Entities;
      if (!Array.isArray(entities))
        throw new WebhookPayloadError(`${where}: EntityCollection.Entities must be an array`);
      return entities.map((item: unknown, index) => convertValue(item, `${where}.Entities[${index}]`));
    }
    case 'OptionSetValueCollection':
    case 'AliasedValue':
      return convertValue(value.Value ?? value.Values ?? null, where);
    default:
      break;
  }
  // Untyped objects: a reference (OwningExtension has no __type), an entity (images), else a generic record.
  if (typeof value.LogicalName === 'string' && 'Attributes' in value) return entity(value, where);
  if (typeof value.LogicalName === 'string' && typeof value.Id === 'string') return entityReference(value, where);
  const record: DataverseValueMap = {};
  for (const [field, inner] of Object.entries(value)) {
    if (field !== '__type') record[field] = convertValue(inner, `${where}.${field}`);
  }
  return record;
}

function isEntityValue(value: DataverseValue | undefined): value is DataverseEntityValue {
  return isObject(value) && 'attributes' in value && typeof value.logicalName === 'string';
}

/** All named images of one kind merged: a step has at most a handful, and callers want columns, not image names. */
function imageAttributes(list: unknown, where: string): Record<string, DataverseValue> | undefined {
  if (list === undefined || list === null) return undefined;
  const images = keyValueMap(list, where);
  const names = Object.keys(images);
  if (names.length === 0) return undefined;
  const merged: Record<string, DataverseValue> = {};
  for (const name of names) {
    const image = images[name];
    if (!isEntityValue(image)) throw new WebhookPayloadError(`${where}[${name}] must be an Entity`);
    Object.assign(merged, image.attributes);
  }
  return merged;
}

/**
 * Shared variables of the context and every parent. The `?tag=` of the originating Web API call is set on the outer
 * pipeline, which an async post-operation step may only see through `ParentContext`; the innermost value wins.
 * Non-scalar platform entries (e.g. `ChangedEntityTypes`) are left out: they say nothing about this record.
 */
function sharedVariablesOf(context: JsonObject, where: string): Record<string, string | number | boolean | null> {
  const chain: { context: JsonObject; where: string }[] = [];
  let current: JsonObject | undefined = context;
  let path = where;
  while (current && chain.length < 16) {
    chain.push({ context: current, where: path });
    const parent: unknown = current.ParentContext;
    path = `${path}.ParentContext`;
    if (parent === undefined || parent === null) break;
    if (!isObject(parent)) throw new WebhookPayloadError(`${path} must be an object, got ${kindOf(parent)}`);
    current = parent;
  }
  const variables: Record<string, string | number | boolean | null> = {};
  for (const link of chain.reverse()) {
    const list = link.context.SharedVariables;
    if (list === undefined || list === null) continue;
    const map = keyValueMap(list, `${link.where}.SharedVariables`);
    for (const [key, value] of Object.entries(map)) {
      if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        variables[key] = value;
      }
    }
  }
  return variables;
}

/** The columns the message wrote: `InputParameters.Target` when it is an Entity (Create/Update), else none. */
function targetAttributes(context: JsonObject): Record<string, DataverseValue> {
  const list = context.InputParameters;
  if (list === undefined || list === null) return {};
  const parameters = keyValueMap(list, 'InputParameters');
  const target = parameters.Target;
  return isEntityValue(target) ? target.attributes : {};
}

export function parseRemoteExecutionContext(body: unknown): DataverseChange {
  if (!isObject(body)) throw new WebhookPayloadError(`webhook body must be a JSON object, got ${kindOf(body)}`);
  const where = 'RemoteExecutionContext';

  const change: DataverseChange = {
    messageName: requiredString(body, 'MessageName', where),
    entityName: requiredString(body, 'PrimaryEntityName', where),
    entityId: guid(body, 'PrimaryEntityId', where),
    correlationId: guid(body, 'CorrelationId', where),
    attributes: targetAttributes(body),
    sharedVariables: sharedVariablesOf(body, where),
  };
  if (!/^[a-z0-9_]+$/.test(change.entityName)) {
    throw new WebhookPayloadError(
      `${where}.PrimaryEntityName is not a logical name: ${JSON.stringify(change.entityName)}`,
    );
  }

  const organizationName = optionalString(body, 'OrganizationName', where);
  if (organizationName !== undefined) change.organizationName = organizationName;
  const operationId = optionalString(body, 'OperationId', where);
  if (operationId !== undefined) change.operationId = operationId.toLowerCase();
  const requestId = optionalString(body, 'RequestId', where);
  if (requestId !== undefined) change.requestId = requestId.toLowerCase();
  const initiatingUserId = optionalString(body, 'InitiatingUserId', where);
  if (initiatingUserId !== undefined) change.initiatingUserId = initiatingUserId.toLowerCase();

  const createdOn = optionalString(body, 'OperationCreatedOn', where);
  if (createdOn !== undefined) {
    const iso = parseWcfDate(createdOn);
    if (iso === undefined)
      throw new WebhookPayloadError(`${where}.OperationCreatedOn is not a /Date(ms)/ value: ${createdOn}`);
    change.operationCreatedOn = iso;
  }

  const depth = optionalInteger(body, 'Depth', where);
  if (depth !== undefined) change.depth = depth;
  const stage = optionalInteger(body, 'Stage', where);
  if (stage !== undefined) change.stage = stage;
  const mode = optionalInteger(body, 'Mode', where);
  if (mode !== undefined) change.mode = mode;

  const preImage = imageAttributes(body.PreEntityImages, `${where}.PreEntityImages`);
  if (preImage) change.preImage = preImage;
  const postImage = imageAttributes(body.PostEntityImages, `${where}.PostEntityImages`);
  if (postImage) change.postImage = postImage;

  return change;
}
