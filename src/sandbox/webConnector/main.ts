/**
 * Runs the Web Connector simulator on the QWC's own timer, like a QBWC left on Auto Run.
 *
 *   tsx src/sandbox/webConnector/main.ts <file.qwc> [processorUrl]
 *
 * Password from QBWC_PASSWORD; processor URL from argv or QBWC_PROCESSOR_URL (the QuickBooks sandbox,
 * e.g. http://127.0.0.1:8090/qbxml?companyFile=acme); company file path from QBWC_COMPANY_FILE, else the
 * processor URL's `companyFile` parameter. SANDBOX_QBXML_VERSION: the newest qbXML the simulated QuickBooks speaks.
 */
import { readFileSync } from 'node:fs';
import { logger } from '../../observability/logger';
import { parseQwcFile } from '../../gateway/qbwc/qwcFile';
import { httpCompanyFileProcessor } from './companyFileProcessor';
import { WebConnectorSimulator } from './webConnectorSimulator';

function main(): void {
  const [qwcPath, processorArg] = process.argv.slice(2);
  const processorUrl = processorArg ?? process.env.QBWC_PROCESSOR_URL;
  const password = process.env.QBWC_PASSWORD;
  if (!qwcPath || !processorUrl || password === undefined) {
    logger.error(
      'usage: main.ts <file.qwc> [processorUrl]; needs QBWC_PASSWORD and a processor URL (argv or QBWC_PROCESSOR_URL)',
    );
    process.exitCode = 2;
    return;
  }
  const qwc = parseQwcFile(readFileSync(qwcPath, 'utf8'));
  const companyFilePath =
    process.env.QBWC_COMPANY_FILE ??
    `C:\\QuickBooks\\${new URL(processorUrl).searchParams.get('companyFile') ?? 'Sandbox Company'}.qbw`;
  const simulator = new WebConnectorSimulator({
    qwc,
    password,
    companyFilePath,
    processor: httpCompanyFileProcessor(processorUrl),
    // The QuickBooks sandbox reads the same variable, so both report one QuickBooks.
    ...(process.env.SANDBOX_QBXML_VERSION ? { qbxmlVersion: process.env.SANDBOX_QBXML_VERSION } : {}),
    log: (event) => {
      if (event.type === 'runFinished') logger.info({ report: event.report, appUrl: qwc.appUrl }, 'web connector run');
    },
  });
  simulator.start();
  const shutdown = (): void => {
    void simulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main();
