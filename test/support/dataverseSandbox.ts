import { connectDataverse, type DataverseConnection } from '../../src/dataverse/connect';
import type { DataverseSandbox } from '../../src/sandbox/dataverse/server';

/** The connector's Dataverse client for a running sandbox: real msal-node tokens over HTTPS, trusting its CA only. */
export function connectToSandbox(
  sandbox: DataverseSandbox,
  label = 'east',
  options: Omit<Parameters<typeof connectDataverse>[1], 'label'> = {},
): DataverseConnection {
  return connectDataverse(
    {
      environmentUrl: sandbox.environmentUrl,
      webApiUrl: sandbox.webApiUrl,
      tenantId: sandbox.tenantId,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
    },
    { ...options, label },
  );
}
