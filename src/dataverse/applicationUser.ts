import { type DataverseClient } from './client';

/**
 * Who the connector is in Dataverse and what it may do: the application user behind the client credentials
 * (`WhoAmI`), its privileges through its roles and teams (`RetrieveUserPrivileges`), and the webhooks registered on
 * the organisation (`serviceendpoints` of contract 8 with their `sdkmessageprocessingsteps`). Read only.
 */

export interface WhoAmI {
  userId: string;
  businessUnitId: string;
  organizationId: string;
}

export interface UserPrivilege {
  name: string;
  /** Basic (user), Local (business unit), Deep (unit and children), Global (organisation). */
  depth: string;
}

export interface WebhookRegistration {
  id: string;
  url: string;
  /** Each step: the message and table it fires for. */
  steps: Array<{ message: string; table: string; enabled: boolean }>;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function rows(body: unknown): Array<Record<string, unknown>> {
  const value = record(body).value;
  return Array.isArray(value) ? value.map(record) : [];
}

export async function whoAmI(client: DataverseClient): Promise<WhoAmI> {
  const res = await client.execute('GET', 'WhoAmI');
  const body = record(res.body);
  return {
    userId: String(body.UserId ?? ''),
    businessUnitId: String(body.BusinessUnitId ?? ''),
    organizationId: String(body.OrganizationId ?? ''),
  };
}

export async function userPrivileges(client: DataverseClient, userId: string): Promise<UserPrivilege[]> {
  const res = await client.execute('GET', `systemusers(${userId})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`);
  const privileges = record(res.body).RolePrivileges;
  return (Array.isArray(privileges) ? privileges.map(record) : []).map((p) => ({
    name: String(p.PrivilegeName ?? ''),
    depth: String(p.Depth ?? ''),
  }));
}

const WEBHOOK_CONTRACT = 8;

export async function webhookRegistrations(client: DataverseClient): Promise<WebhookRegistration[]> {
  const endpoints = await client.execute('GET', 'serviceendpoints', {
    query: `$select=serviceendpointid,name,url,contract&$filter=contract eq ${WEBHOOK_CONTRACT}`,
  });
  const registrations: WebhookRegistration[] = [];
  for (const endpoint of rows(endpoints.body)) {
    const id = String(endpoint.serviceendpointid ?? '');
    const steps = await client.execute('GET', 'sdkmessageprocessingsteps', {
      query:
        `$select=name,statecode&$filter=_eventhandler_value eq ${id}` +
        '&$expand=sdkmessageid($select=name),sdkmessagefilterid($select=primaryobjecttypecode)',
    });
    registrations.push({
      id,
      url: String(endpoint.url ?? ''),
      steps: rows(steps.body).map((step) => ({
        message: String(record(step.sdkmessageid).name ?? ''),
        table: String(record(step.sdkmessagefilterid).primaryobjecttypecode ?? ''),
        enabled: step.statecode === 0,
      })),
    });
  }
  return registrations;
}
