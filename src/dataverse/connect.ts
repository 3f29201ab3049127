import { readFile } from 'node:fs/promises';
import { type DataverseTarget } from '../config/deployment';
import { metricsRegistry, observeDataverseGovernor } from '../observability/metrics';
import { DataverseClient } from './client';
import { RateGovernor, type RateGovernorOptions } from './rateGovernor';
import { DataverseTokenProvider } from './tokenProvider';

export interface DataverseConnection {
  client: DataverseClient;
  close(): Promise<void>;
}

/**
 * The one Dataverse client of a process: one token cache and one governor, shared by every activity, so the process as
 * a whole stays inside the organisation's service-protection limits.
 */
/**
 * A client assertion read from `file` at each token request. The file is renewed by whoever writes it (the AKS
 * workload identity webhook, an HSM signer), so it is never cached here; a missing or empty file fails that request,
 * naming the file (its content is a credential and is never quoted).
 */
function clientAssertionFromFile(file: string): () => Promise<string> {
  return async () => {
    let text: string;
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new Error(
        `the client assertion file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
    if (text.split('.').length !== 3) throw new Error(`the client assertion file ${file} holds no JWT`);
    return text;
  };
}

/** Tokens for `target`'s app registration (client secret, certificate or assertion), labelled `label` in logs and metrics. */
export function dataverseTokenProvider(
  target: DataverseTarget,
  label: string,
  env?: NodeJS.ProcessEnv,
): DataverseTokenProvider {
  return new DataverseTokenProvider({
    connection: label,
    tenantId: target.tenantId,
    clientId: target.clientId,
    ...(target.clientAssertionFile
      ? { clientAssertion: clientAssertionFromFile(target.clientAssertionFile) }
      : target.clientCertificate
        ? { clientCertificate: target.clientCertificate }
        : { clientSecret: target.clientSecret ?? '' }),
    environmentUrl: target.environmentUrl,
    ...(target.authority ? { authority: target.authority } : {}),
    ...(target.caPem ? { caPem: target.caPem } : {}),
    ...(env ? { env } : {}),
  });
}

export function connectDataverse(
  target: DataverseTarget,
  options: {
    label?: string;
    /** Limits for the process's own governor, or a governor to share (benchmarks measure through their own). */
    governor?: RateGovernorOptions | RateGovernor;
    maxThrottleRetries?: number;
    /** Where the outbound proxy (`HTTPS_PROXY`, `NO_PROXY`) is read from; the process's environment by default. */
    env?: NodeJS.ProcessEnv;
  } = {},
): DataverseConnection {
  const label = options.label ?? 'dataverse';
  const tokenProvider = dataverseTokenProvider(target, label, options.env);
  const governor =
    options.governor instanceof RateGovernor
      ? options.governor
      : new RateGovernor({ name: label, ...options.governor });
  // Reported in the process's metrics registry, so `/metrics` shows in flight, waiting, throttled and pace.
  observeDataverseGovernor(governor, metricsRegistry);
  const client = new DataverseClient({
    connection: label,
    webApiUrl: target.webApiUrl,
    tokenProvider,
    ...(target.caPem ? { caPem: target.caPem } : {}),
    governor,
    ...(options.env ? { env: options.env } : {}),
    ...(options.maxThrottleRetries !== undefined ? { maxThrottleRetries: options.maxThrottleRetries } : {}),
  });
  return {
    client,
    async close() {
      await client.close();
      await tokenProvider.close();
    },
  };
}
