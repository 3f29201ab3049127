import { writeFileSync } from 'node:fs';
import { buildQwcFile, deterministicGuid } from '../gateway/qbwc/qwcFile';

/** Stable per installation: QBWC keys its stored data on OwnerID, and stamps FileID on the company file. */
const APP_NAMESPACE = 'qb-d365-connector';

/** What a `.QWC` file says about a connection: the sandbox's connections and the configuration file's both fit. */
export interface QwcConnection {
  name: string;
  companyFileLabel: string;
  qbwc: { userName: string };
}

export interface QwcCommandOptions {
  gatewayUrl: string;
  runEveryMinutes: number;
  out?: string;
}

function qwcFor(connection: QwcConnection, options: QwcCommandOptions): string {
  const base = options.gatewayUrl.replace(/\/+$/, '');
  return buildQwcFile({
    appName: `QuickBooks - Dynamics 365 connector (${connection.name})`,
    appUrl: `${base}/qbwc`,
    appDescription: `Keeps ${connection.companyFileLabel} and Dynamics 365 Sales in agreement.`,
    appSupport: `${base}/healthz`,
    userName: connection.qbwc.userName,
    ownerId: deterministicGuid(APP_NAMESPACE, 'owner'),
    fileId: deterministicGuid(APP_NAMESPACE, `file/${connection.name}`),
    qbType: 'QBFS',
    runEveryNMinutes: options.runEveryMinutes,
    isReadOnly: false,
  });
}

export function writeQwc(connection: QwcConnection, options: QwcCommandOptions): string {
  const xml = qwcFor(connection, options);
  if (options.out) writeFileSync(options.out, xml);
  return xml;
}
