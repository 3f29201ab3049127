import { badRequest, DataverseError, ErrorCodes } from './dataverseError';
import { deterministicGuid, isGuid } from './deterministicId';
import { isLookupValue, type Row } from './row';
import {
  type ColumnDefinition,
  type ColumnType,
  type EntityKeyDefinition,
  type OptionDefinition,
  type Schema,
  type TableDefinition,
} from './schema';
import { type RecordStore } from './store';
import { emptyResponse, jsonResponse, parseJsonBody, type ApiRequest, type ApiResponse } from './webApi';

const ATTRIBUTE_TYPES: Record<string, { type: ColumnType; attributeType: string; defaultMaxLength?: number }> = {
  StringAttributeMetadata: { type: 'string', attributeType: 'String', defaultMaxLength: 100 },
  MemoAttributeMetadata: { type: 'memo', attributeType: 'Memo', defaultMaxLength: 2000 },
  IntegerAttributeMetadata: { type: 'integer', attributeType: 'Integer' },
  DecimalAttributeMetadata: { type: 'decimal', attributeType: 'Decimal' },
  MoneyAttributeMetadata: { type: 'money', attributeType: 'Money' },
  BooleanAttributeMetadata: { type: 'boolean', attributeType: 'Boolean' },
  DateTimeAttributeMetadata: { type: 'datetime', attributeType: 'DateTime' },
  PicklistAttributeMetadata: { type: 'choice', attributeType: 'Picklist' },
};

const TYPE_NAMES: Record<ColumnType, string> = {
  uniqueidentifier: 'UniqueidentifierAttributeMetadata',
  string: 'StringAttributeMetadata',
  memo: 'MemoAttributeMetadata',
  integer: 'IntegerAttributeMetadata',
  decimal: 'DecimalAttributeMetadata',
  money: 'MoneyAttributeMetadata',
  boolean: 'BooleanAttributeMetadata',
  datetime: 'DateTimeAttributeMetadata',
  choice: 'PicklistAttributeMetadata',
  lookup: 'LookupAttributeMetadata',
};

/** Custom columns and keys survive restarts; the built-in schema is rebuilt from code. */
export interface MetadataSnapshot {
  customColumns: Array<{ table: string; column: ColumnDefinition }>;
  keys: Record<string, EntityKeyDefinition[]>;
  optionSets: Record<string, OptionDefinition[]>;
}

function label(text: string): Record<string, unknown> {
  const localized = { Label: text, LanguageCode: 1033, IsManaged: false };
  return { LocalizedLabels: [localized], UserLocalizedLabel: localized };
}

function labelText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const labels = (value as { LocalizedLabels?: unknown }).LocalizedLabels;
  if (!Array.isArray(labels)) return undefined;
  const first: unknown = labels[0];
  if (typeof first === 'object' && first !== null && typeof (first as { Label?: unknown }).Label === 'string')
    return (first as { Label: string }).Label;
  return undefined;
}

/** Applies `$select` (case-insensitive) to a metadata object, keeping `@odata.*` and MetadataId. */
function selectProperties(item: Record<string, unknown>, select: string | null): Record<string, unknown> {
  if (select === null) return item;
  const wanted = new Set(select.split(',').map((s) => s.trim().toLowerCase()));
  return Object.fromEntries(
    Object.entries(item).filter(([k]) => k.startsWith('@') || k === 'MetadataId' || wanted.has(k.toLowerCase())),
  );
}

/** The `Name eq 'x' and IsCustomAttribute eq true` subset of `$filter` that metadata queries use. */
function metadataFilter(filter: string | null): (item: Record<string, unknown>) => boolean {
  if (filter === null) return () => true;
  const conditions = filter.split(/\s+and\s+/i).map((part) => {
    const match = /^\s*\(?\s*(\w+)\s+eq\s+(?:'([^']*)'|(true|false|\d+))\s*\)?\s*$/i.exec(part);
    if (match?.[1] === undefined)
      throw badRequest(ErrorCodes.invalidArgument, `The metadata $filter '${filter}' is not supported by the sandbox.`);
    const expected =
      match[2] !== undefined ? match[2] : match[3] === 'true' ? true : match[3] === 'false' ? false : Number(match[3]);
    return { property: match[1], expected };
  });
  return (item) =>
    conditions.every(({ property, expected }) => {
      const key = Object.keys(item).find((k) => k.toLowerCase() === property.toLowerCase());
      const actual = key === undefined ? undefined : item[key];
      return typeof actual === 'string' && typeof expected === 'string'
        ? actual.toLowerCase() === expected.toLowerCase()
        : actual === expected;
    });
}

/**
 * A new number column's `MinValue`, `MaxValue`, `Precision` and `PrecisionSource`, with the platform's defaults when
 * absent (decimal: precision 2, ±100,000,000,000; money: currency precision, ±922,337,203,685,477).
 */
function numberLimits(column: ColumnDefinition, body: Record<string, unknown>): void {
  const numberOf = (name: string): number | undefined => (typeof body[name] === 'number' ? body[name] : undefined);
  const bound = column.type === 'money' ? 922337203685477 : column.type === 'decimal' ? 100000000000 : 2147483647;
  column.minValue = numberOf('MinValue') ?? (column.type === 'integer' ? -bound - 1 : -bound);
  column.maxValue = numberOf('MaxValue') ?? bound;
  if (column.type === 'integer') return;
  const precision = numberOf('Precision');
  if (precision !== undefined && (!Number.isInteger(precision) || precision < 0 || precision > 10))
    throw badRequest(ErrorCodes.invalidArgument, `Precision ${precision} is out of range.`);
  column.precision = precision ?? 2;
  if (column.type === 'money') {
    const source = numberOf('PrecisionSource');
    column.precisionSource = source === 0 || source === 1 ? source : 2;
  }
}

function parseNamedKey(text: string | undefined, name: string): string | undefined {
  if (text === undefined) return undefined;
  const match = new RegExp(`^${name}='([^']*)'$`, 'i').exec(text.trim());
  return match?.[1];
}

/**
 * The slice of the metadata Web API the connector's provisioning uses: columns, alternate keys, option sets and
 * InsertOptionValue. New columns and keys take effect on the tables at once (keys after a short build).
 */
export class MetadataApi {
  constructor(
    private readonly schema: Schema,
    private readonly store: RecordStore,
    private readonly onChange: () => void,
    private readonly keyActivationDelayMs: number,
  ) {}

  snapshot(): MetadataSnapshot {
    const customColumns: MetadataSnapshot['customColumns'] = [];
    const keys: MetadataSnapshot['keys'] = {};
    for (const table of this.schema.tables.values()) {
      for (const column of table.columns.values())
        if (column.custom === true) customColumns.push({ table: table.logicalName, column });
      if (table.keys.length > 0) keys[table.logicalName] = table.keys;
    }
    return { customColumns, keys, optionSets: Object.fromEntries(this.schema.optionSets) };
  }

  restore(snapshot: MetadataSnapshot): void {
    for (const [name, options] of Object.entries(snapshot.optionSets)) this.schema.optionSets.set(name, options);
    for (const { table, column } of snapshot.customColumns)
      this.schema.tables.get(table)?.columns.set(column.name, column);
    for (const [tableName, keys] of Object.entries(snapshot.keys)) {
      const table = this.schema.tables.get(tableName);
      if (table === undefined) continue;
      table.keys = keys;
      for (const key of keys)
        if (key.status === 'Pending' || key.status === 'InProgress') this.scheduleActivation(table, key);
    }
  }

  handle = (request: ApiRequest, segments: string[], webApiUrl: string): ApiResponse | undefined => {
    const [first, ...rest] = segments.map((s) => decodeURIComponent(s));
    if (first === undefined) return undefined;
    const method = request.method.toUpperCase();
    if (first === 'EntityDefinitions' || first.startsWith('EntityDefinitions('))
      return this.entityDefinitions(first, rest, request, webApiUrl);
    if (first === 'GlobalOptionSetDefinitions' || first.startsWith('GlobalOptionSetDefinitions('))
      return this.optionSet(first, request, webApiUrl);
    if (first === 'InsertOptionValue' && method === 'POST') return this.insertOptionValue(request, webApiUrl);
    if (first === 'WhoAmI' || first === 'WhoAmI()') {
      const org = this.store.all('organization')[0];
      return jsonResponse(200, {
        '@odata.context': `${webApiUrl}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: deterministicGuid('businessunit:root'),
        UserId: deterministicGuid('systemuser:application-user'),
        OrganizationId: org === undefined ? deterministicGuid('organization') : String(org.organizationid),
      });
    }
    if (first === '$metadata')
      return {
        status: 200,
        headers: { 'Content-Type': 'application/xml', 'OData-Version': '4.0' },
        body: '<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"/>',
      };
    return undefined;
  };

  private tableFrom(segment: string): TableDefinition {
    const inside = /^EntityDefinitions\((.*)\)$/.exec(segment)?.[1] ?? '';
    const logicalName = parseNamedKey(inside, 'LogicalName');
    const table =
      logicalName !== undefined
        ? this.schema.tables.get(logicalName.toLowerCase())
        : isGuid(inside)
          ? [...this.schema.tables.values()].find((t) => t.metadataId === inside.toLowerCase())
          : undefined;
    if (table === undefined) {
      throw new DataverseError(404, '0x80040217', `Could not find entity with name or id ${inside}`);
    }
    return table;
  }

  private entityMetadata(table: TableDefinition): Record<string, unknown> {
    return {
      MetadataId: table.metadataId,
      LogicalName: table.logicalName,
      SchemaName: table.schemaName,
      EntitySetName: table.entitySet,
      LogicalCollectionName: table.entitySet,
      PrimaryIdAttribute: table.primaryKey,
      PrimaryNameAttribute: table.primaryName,
      IsCustomEntity: false,
      IsOptimisticConcurrencyEnabled: table.optimisticConcurrency,
      ChangeTrackingEnabled: true,
      DisplayName: label(table.schemaName),
    };
  }

  attributeMetadata(table: TableDefinition, column: ColumnDefinition): Record<string, unknown> {
    const typeName = TYPE_NAMES[column.type];
    const item: Record<string, unknown> = {
      '@odata.type': `#Microsoft.Dynamics.CRM.${typeName}`,
      MetadataId: column.metadataId,
      LogicalName: column.name,
      SchemaName: column.schemaName,
      EntityLogicalName: table.logicalName,
      AttributeType:
        ATTRIBUTE_TYPES[typeName]?.attributeType ??
        (column.type === 'lookup'
          ? column.targets !== undefined && column.targets.length > 1
            ? 'Customer'
            : 'Lookup'
          : 'Uniqueidentifier'),
      AttributeTypeName: { Value: `${ATTRIBUTE_TYPES[typeName]?.attributeType ?? 'Lookup'}Type` },
      IsCustomAttribute: column.custom === true,
      IsPrimaryId: column.name === table.primaryKey,
      IsPrimaryName: column.name === table.primaryName,
      IsValidForCreate: column.readOnly !== true && column.validForCreate !== false,
      IsValidForUpdate: column.readOnly !== true,
      RequiredLevel: {
        Value: column.required === true ? 'ApplicationRequired' : 'None',
        CanBeChanged: true,
        ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings',
      },
      DisplayName: label(column.schemaName),
    };
    if (column.maxLength !== undefined) item.MaxLength = column.maxLength;
    if (column.minValue !== undefined) item.MinValue = column.minValue;
    if (column.maxValue !== undefined) item.MaxValue = column.maxValue;
    if (column.type === 'decimal' || column.type === 'money') item.Precision = column.precision ?? 2;
    if (column.type === 'money') item.PrecisionSource = column.precisionSource ?? 2;
    if (column.targets !== undefined) item.Targets = column.targets.map((t) => t.table);
    return item;
  }

  private keyMetadata(table: TableDefinition, key: EntityKeyDefinition): Record<string, unknown> {
    return {
      MetadataId: key.metadataId,
      SchemaName: key.schemaName,
      LogicalName: key.logicalName,
      EntityLogicalName: table.logicalName,
      KeyAttributes: key.keyAttributes,
      EntityKeyIndexStatus: key.status,
      DisplayName: label(key.schemaName),
    };
  }

  private entityDefinitions(first: string, rest: string[], request: ApiRequest, webApiUrl: string): ApiResponse {
    const method = request.method.toUpperCase();
    const select = request.query.get('$select');
    if (first === 'EntityDefinitions') {
      const filter = metadataFilter(request.query.get('$filter'));
      const expandKeys = /\bKeys\b/i.test(request.query.get('$expand') ?? '');
      const value = [...this.schema.tables.values()]
        .map((t) => ({ table: t, item: this.entityMetadata(t) }))
        .filter(({ item }) => filter(item))
        .map(({ table, item }) => ({
          ...selectProperties(item, select),
          ...(expandKeys ? { Keys: table.keys.map((k) => this.keyMetadata(table, k)) } : {}),
        }));
      return jsonResponse(200, { '@odata.context': `${webApiUrl}$metadata#EntityDefinitions`, value });
    }
    const table = this.tableFrom(first);
    const [collection, item] = rest;
    const entityPath = `${webApiUrl}EntityDefinitions(LogicalName='${table.logicalName}')`;
    if (collection === undefined) {
      if (method !== 'GET')
        throw new DataverseError(405, '', `Method ${method} is not supported on an entity definition.`);
      const body: Record<string, unknown> = {
        '@odata.context': `${webApiUrl}$metadata#EntityDefinitions/$entity`,
        ...selectProperties(this.entityMetadata(table), select),
      };
      const expand = request.query.get('$expand') ?? '';
      if (/\bAttributes\b/i.test(expand))
        body.Attributes = [...table.columns.values()].map((c) => this.attributeMetadata(table, c));
      if (/\bKeys\b/i.test(expand)) body.Keys = table.keys.map((k) => this.keyMetadata(table, k));
      return jsonResponse(200, body);
    }
    if (collection === 'Attributes' || collection.startsWith('Attributes(')) {
      const inside = /^Attributes\((.*)\)$/.exec(collection)?.[1];
      if (inside !== undefined) {
        const name = parseNamedKey(inside, 'LogicalName');
        const column = [...table.columns.values()].find((c) =>
          name !== undefined ? c.name === name.toLowerCase() : c.metadataId === inside.toLowerCase(),
        );
        if (column === undefined)
          throw new DataverseError(
            404,
            '0x80040217',
            `Could not find attribute ${inside} on entity ${table.logicalName}.`,
          );
        if (method !== 'GET')
          throw new DataverseError(405, '', `Method ${method} is not supported on an attribute in the sandbox.`);
        // `.../Attributes(LogicalName='x')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet` is how
        // a choice column's options are read; the cast must name the column's real metadata type.
        if (item !== undefined) {
          const expected = `Microsoft.Dynamics.CRM.${column.optionSet !== undefined ? 'PicklistAttributeMetadata' : 'x'}`;
          if (item !== expected)
            throw new DataverseError(400, '0x80060888', `Attribute ${column.name} is not of type ${item}.`);
        }
        const expandOptions = /\bOptionSet\b/.test(request.query.get('$expand') ?? '');
        const optionSetName = column.optionSet;
        const options = optionSetName === undefined ? undefined : this.schema.optionSets.get(optionSetName);
        return jsonResponse(200, {
          '@odata.context': `${entityPath}/Attributes/$entity`,
          ...selectProperties(this.attributeMetadata(table, column), select),
          ...(expandOptions && optionSetName !== undefined && options !== undefined
            ? {
                OptionSet: {
                  ...this.optionSetMetadata(optionSetName, options),
                  IsGlobal: !optionSetName.includes('_'),
                },
              }
            : {}),
        });
      }
      if (method === 'GET') {
        const filter = metadataFilter(request.query.get('$filter'));
        const value = [...table.columns.values()]
          .map((c) => this.attributeMetadata(table, c))
          .filter(filter)
          .map((a) => selectProperties(a, select));
        return jsonResponse(200, {
          '@odata.context': `${webApiUrl}$metadata#EntityDefinitions('${table.logicalName}')/Attributes`,
          value,
        });
      }
      if (method === 'POST') {
        const column = this.createAttribute(table, parseJsonBody(request.body));
        return emptyResponse(204, { 'OData-EntityId': `${entityPath}/Attributes(${column.metadataId})` });
      }
    }
    if (collection === 'Keys' || collection.startsWith('Keys(')) {
      const inside = /^Keys\((.*)\)$/.exec(collection)?.[1];
      if (inside !== undefined) {
        const name = parseNamedKey(inside, 'LogicalName');
        const key = table.keys.find((k) =>
          name !== undefined ? k.logicalName === name.toLowerCase() : k.metadataId === inside.toLowerCase(),
        );
        if (key === undefined)
          throw new DataverseError(404, '0x80040217', `Could not find key ${inside} on entity ${table.logicalName}.`);
        if (method === 'DELETE') {
          table.keys = table.keys.filter((k) => k !== key);
          this.onChange();
          return emptyResponse(204);
        }
        return jsonResponse(200, {
          '@odata.context': `${entityPath}/Keys/$entity`,
          ...selectProperties(this.keyMetadata(table, key), select),
        });
      }
      if (method === 'GET') {
        const value = table.keys.map((k) => selectProperties(this.keyMetadata(table, k), select));
        return jsonResponse(200, {
          '@odata.context': `${webApiUrl}$metadata#EntityDefinitions('${table.logicalName}')/Keys`,
          value,
        });
      }
      if (method === 'POST') {
        const key = this.createKey(table, parseJsonBody(request.body));
        return emptyResponse(204, { 'OData-EntityId': `${entityPath}/Keys(${key.metadataId})` });
      }
    }
    throw new DataverseError(404, '', `Resource not found for the segment '${collection}'.`);
  }

  private createAttribute(table: TableDefinition, body: Record<string, unknown>): ColumnDefinition {
    const odataType =
      typeof body['@odata.type'] === 'string' ? body['@odata.type'].replace(/^#?Microsoft\.Dynamics\.CRM\./, '') : '';
    const kind = ATTRIBUTE_TYPES[odataType];
    if (kind === undefined)
      throw badRequest(
        ErrorCodes.invalidArgument,
        `The attribute type '${odataType}' is not supported by the sandbox (or @odata.type is missing).`,
      );
    const schemaName = body.SchemaName;
    if (typeof schemaName !== 'string' || !/^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$/.test(schemaName)) {
      throw badRequest(
        ErrorCodes.invalidArgument,
        `The schema name '${String(schemaName)}' is invalid: custom attributes need a customization prefix, e.g. new_Name.`,
      );
    }
    const logicalName = schemaName.toLowerCase();
    if (table.columns.has(logicalName)) {
      throw badRequest(
        ErrorCodes.duplicateAttribute,
        `An attribute with the specified name ${schemaName} already exists. Please specify a unique name.`,
      );
    }
    const column: ColumnDefinition = {
      name: logicalName,
      schemaName,
      type: kind.type,
      custom: true,
      metadataId: deterministicGuid(`attribute:${table.logicalName}.${logicalName}`),
    };
    if (kind.defaultMaxLength !== undefined) {
      const maxLength = typeof body.MaxLength === 'number' ? body.MaxLength : kind.defaultMaxLength;
      if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > (kind.type === 'memo' ? 1_048_576 : 4000)) {
        throw badRequest(ErrorCodes.invalidArgument, `MaxLength ${String(maxLength)} is out of range.`);
      }
      column.maxLength = maxLength;
    }
    const requiredLevel = (body.RequiredLevel as { Value?: unknown } | undefined)?.Value;
    if (requiredLevel === 'ApplicationRequired' || requiredLevel === 'SystemRequired') column.required = true;
    if (kind.type === 'decimal' || kind.type === 'money' || kind.type === 'integer') numberLimits(column, body);
    if (kind.type === 'choice') {
      const bind = body['GlobalOptionSet@odata.bind'];
      const globalName = typeof bind === 'string' ? /Name='([^']+)'/.exec(bind)?.[1] : undefined;
      if (globalName !== undefined) {
        if (!this.schema.optionSets.has(globalName))
          throw new DataverseError(404, '0x80040217', `Could not find optionset ${globalName}.`);
        column.optionSet = globalName;
      } else {
        const options = (body.OptionSet as { Options?: unknown } | undefined)?.Options;
        const localName = `${table.logicalName}_${logicalName}`;
        const parsed: OptionDefinition[] = Array.isArray(options)
          ? options.map((o: unknown, i) => {
              const option = o as { Value?: unknown; Label?: unknown };
              return {
                value: typeof option.Value === 'number' ? option.Value : 100_000_000 + i,
                label: labelText(option.Label) ?? String(option.Value),
              };
            })
          : [];
        this.schema.optionSets.set(localName, parsed);
        column.optionSet = localName;
      }
    }
    table.columns.set(logicalName, column);
    for (const row of this.store.all(table.logicalName)) if (!(logicalName in row)) row[logicalName] = null;
    this.onChange();
    return column;
  }

  private createKey(table: TableDefinition, body: Record<string, unknown>): EntityKeyDefinition {
    const schemaName = body.SchemaName;
    if (typeof schemaName !== 'string' || schemaName.length === 0)
      throw badRequest(ErrorCodes.invalidArgument, 'SchemaName is required for an entity key.');
    const attributes = body.KeyAttributes;
    if (
      !Array.isArray(attributes) ||
      attributes.length === 0 ||
      attributes.length > 16 ||
      !attributes.every((a): a is string => typeof a === 'string')
    ) {
      throw badRequest(ErrorCodes.invalidArgument, 'KeyAttributes must list 1 to 16 attribute logical names.');
    }
    const keyAttributes = attributes.map((a) => a.toLowerCase());
    for (const name of keyAttributes) {
      const column = table.columns.get(name);
      if (column === undefined)
        throw badRequest(
          ErrorCodes.invalidArgument,
          `Attribute ${name} does not exist on entity ${table.logicalName}.`,
        );
      if (column.type === 'memo' || column.type === 'boolean')
        throw badRequest(
          ErrorCodes.invalidArgument,
          `Attribute ${name} of type ${column.type} cannot be part of an entity key.`,
        );
    }
    if (table.keys.some((k) => k.logicalName === schemaName.toLowerCase())) {
      throw badRequest(
        ErrorCodes.duplicateAttribute,
        `An entity key with the name ${schemaName} already exists on entity ${table.logicalName}.`,
      );
    }
    if (
      table.keys.some(
        (k) =>
          k.keyAttributes.length === keyAttributes.length && k.keyAttributes.every((a) => keyAttributes.includes(a)),
      )
    ) {
      throw badRequest(
        ErrorCodes.duplicateAttribute,
        `An entity key with the same attributes already exists on entity ${table.logicalName}.`,
      );
    }
    if (table.keys.length >= 10)
      throw badRequest(ErrorCodes.invalidArgument, `Entity ${table.logicalName} already has the maximum of 10 keys.`);
    const key: EntityKeyDefinition = {
      schemaName,
      logicalName: schemaName.toLowerCase(),
      keyAttributes,
      status: 'Pending',
      metadataId: deterministicGuid(`key:${table.logicalName}.${schemaName.toLowerCase()}`),
    };
    table.keys = [...table.keys, key];
    this.onChange();
    this.scheduleActivation(table, key);
    return key;
  }

  /**
   * The index is built asynchronously, as in Dataverse: Pending, In Progress half-way, then Active — or Failed when
   * rows already share a key value. Until Active, writes and reads by the key are refused.
   */
  private scheduleActivation(table: TableDefinition, key: EntityKeyDefinition): void {
    const building = setTimeout(() => {
      if (key.status === 'Pending') key.status = 'InProgress';
    }, this.keyActivationDelayMs / 2);
    building.unref();
    const timer = setTimeout(() => {
      const seen = new Set<string>();
      let duplicate = false;
      for (const row of this.store.all(table.logicalName)) {
        const values = key.keyAttributes.map((a) => row[a] ?? null);
        if (values.some((v) => v === null)) continue;
        const signature = JSON.stringify(
          values.map((v) => (isLookupValue(v) ? v.id : typeof v === 'string' ? v.toLowerCase() : v)),
        );
        if (seen.has(signature)) duplicate = true;
        seen.add(signature);
      }
      key.status = duplicate ? 'Failed' : 'Active';
      this.onChange();
    }, this.keyActivationDelayMs);
    timer.unref();
  }

  private optionSetMetadata(name: string, options: OptionDefinition[]): Record<string, unknown> {
    return {
      '@odata.type': '#Microsoft.Dynamics.CRM.OptionSetMetadata',
      MetadataId: deterministicGuid(`optionset:${name}`),
      Name: name,
      IsGlobal: true,
      OptionSetType: 'Picklist',
      Options: options.map((o) => ({
        Value: o.value,
        Label: label(o.label),
        Description: label(''),
        Color: null,
        IsManaged: false,
      })),
    };
  }

  private optionSet(first: string, request: ApiRequest, webApiUrl: string): ApiResponse {
    if (request.method.toUpperCase() !== 'GET')
      throw new DataverseError(405, '', 'Only GET is supported on option set definitions in the sandbox.');
    if (first === 'GlobalOptionSetDefinitions') {
      const value = [...this.schema.optionSets.entries()].map(([name, options]) =>
        this.optionSetMetadata(name, options),
      );
      return jsonResponse(200, { '@odata.context': `${webApiUrl}$metadata#GlobalOptionSetDefinitions`, value });
    }
    const inside = /^GlobalOptionSetDefinitions\((.*)\)$/.exec(first)?.[1];
    const name = parseNamedKey(inside, 'Name');
    const options = name === undefined ? undefined : this.schema.optionSets.get(name);
    if (name === undefined || options === undefined)
      throw new DataverseError(404, '0x80040217', `Could not find optionset ${inside ?? ''}.`);
    return jsonResponse(200, {
      '@odata.context': `${webApiUrl}$metadata#GlobalOptionSetDefinitions/$entity`,
      ...this.optionSetMetadata(name, options),
    });
  }

  private insertOptionValue(request: ApiRequest, webApiUrl: string): ApiResponse {
    const body = parseJsonBody(request.body);
    let setName: string | undefined;
    if (typeof body.OptionSetName === 'string') setName = body.OptionSetName;
    else if (typeof body.EntityLogicalName === 'string' && typeof body.AttributeLogicalName === 'string') {
      setName = this.schema.tables.get(body.EntityLogicalName)?.columns.get(body.AttributeLogicalName)?.optionSet;
    }
    const options = setName === undefined ? undefined : this.schema.optionSets.get(setName);
    if (setName === undefined || options === undefined)
      throw new DataverseError(404, '0x80040217', 'Could not find the option set to insert into.');
    const text = labelText(body.Label);
    if (text === undefined) throw badRequest(ErrorCodes.invalidArgument, 'Label with LocalizedLabels is required.');
    const value =
      typeof body.Value === 'number' ? body.Value : Math.max(99_999_999, ...options.map((o) => o.value)) + 1;
    if (options.some((o) => o.value === value))
      throw badRequest(
        ErrorCodes.duplicateAttribute,
        `An option with the value ${value} already exists in ${setName}.`,
      );
    if (options.some((o) => o.label.toLowerCase() === text.toLowerCase()))
      throw badRequest(
        ErrorCodes.duplicateAttribute,
        `An option with the label '${text}' already exists in ${setName}.`,
      );
    options.push({ value, label: text });
    this.onChange();
    return jsonResponse(200, {
      '@odata.context': `${webApiUrl}$metadata#Microsoft.Dynamics.CRM.InsertOptionValueResponse`,
      NewOptionValue: value,
    });
  }
}

export type { Row };
