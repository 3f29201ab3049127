import { connectDataverse, type DataverseConnection } from '../../src/dataverse/connect';
import type { DataverseSandbox } from '../../src/sandbox/dataverse/server';

/** What a client needs to sign in to a running sandbox: plain data, so it can be handed to another process. */
export type SandboxSignIn = Pick<
  DataverseSandbox,
  | 'environmentUrl'
  | 'webApiUrl'
  | 'tenantId'
  | 'clientId'
  | 'clientSecret'
  | 'connectorClientId'
  | 'connectorClientSecret'
  | 'authority'
  | 'caCertPem'
>;

/** The sign-in fields of `sandbox`, without its methods. */
export function sandboxSignIn(sandbox: SandboxSignIn): SandboxSignIn {
  const { environmentUrl, webApiUrl, tenantId, clientId, clientSecret } = sandbox;
  const { connectorClientId, connectorClientSecret, authority, caCertPem } = sandbox;
  return {
    environmentUrl,
    webApiUrl,
    tenantId,
    clientId,
    clientSecret,
    connectorClientId,
    connectorClientSecret,
    authority,
    caCertPem,
  };
}

/**
 * The connector's Dataverse client for a running sandbox: real msal-node tokens over HTTPS, trusting its CA only.
 * As the sandbox's administrator app by default; `'connector'` signs in as the app whose application user has only
 * the least-privilege role of docs/deployment.md, as the sync does in a real organisation.
 */
export function connectToSandbox(
  sandbox: SandboxSignIn,
  label = 'east',
  options: Omit<Parameters<typeof connectDataverse>[1], 'label'> = {},
  identity: 'administrator' | 'connector' = 'administrator',
): DataverseConnection {
  const connector = identity === 'connector';
  return connectDataverse(
    {
      environmentUrl: sandbox.environmentUrl,
      webApiUrl: sandbox.webApiUrl,
      tenantId: sandbox.tenantId,
      clientId: connector ? sandbox.connectorClientId : sandbox.clientId,
      clientSecret: connector ? sandbox.connectorClientSecret : sandbox.clientSecret,
      authority: sandbox.authority,
      caPem: sandbox.caCertPem,
    },
    { ...options, label },
  );
}
