import { XMLParser } from 'fast-xml-parser';
import { childLogger } from '../../observability/logger';
import { assertAppUrlAcceptable, type QwcFile } from '../../gateway/qbwc/qwcFile';
import { processingFailureOf, type CompanyFileProcessor, type ProcessingFailure } from './companyFileProcessor';
import { hostCompanyPreferencesResponse } from './hostCompanyPreferences';
import { DEFAULT_SIMULATED_QBXML_VERSION } from '../quickbooks/qbxmlVersions';
import { QbwcSoapClient } from './qbwcSoapClient';
import {
  readIntResult,
  readStringArrayResult,
  readStringResult,
  type QbwcMethod,
  type SoapParameter,
} from './soapEnvelope';

/** The QBWC build we claim to be in `clientVersion`; the one most logs in the wild show. */
const SIMULATED_QBWC_VERSION = '2.3.0.215';
const COMPANY_FILE_UNAVAILABLE: ProcessingFailure = { hresult: '0x80040408', message: 'Could not start QuickBooks.' };
const UNEXPECTED_ERROR: ProcessingFailure = {
  hresult: '0x80040402',
  message: 'Unexpected error. Check the qbsdklog.txt file for possible, additional information.',
};

export type WebConnectorOutcome =
  'completed' | 'noWork' | 'invalidUser' | 'busy' | 'error' | 'connectionError' | 'aborted';

export interface WebConnectorRunReport {
  outcome: WebConnectorOutcome;
  /** sendRequestXML answered with qbXML and receiveResponseXML was called for it. */
  roundTrips: number;
  /** Count of `*Rq` elements in the qbXML handed to QuickBooks. */
  requestsSent: number;
  lastError?: string;
  /** Method names in call order, including a call that failed. */
  calls: string[];
  ticket?: string;
  /** authenticate's optional third slot, when the server asked to postpone. */
  postponeSeconds?: number;
}

export type WebConnectorEvent =
  | { type: 'call'; method: QbwcMethod; result: string }
  | { type: 'clientVersionWarning'; text: string }
  | { type: 'processorRejected'; hresult: string; message: string }
  | { type: 'noOpWait'; ms: number }
  | { type: 'runFinished'; report: WebConnectorRunReport };

export interface WebConnectorSimulatorOptions {
  qwc: QwcFile;
  password: string;
  /** The company file QBWC would open when authenticate answers `""`. */
  companyFilePath: string;
  processor: CompanyFileProcessor;
  /**
   * The newest qbXML version the QuickBooks behind `processor` speaks, which QBWC reports in every `sendRequestXML`
   * (`qbXMLMajorVers`/`qbXMLMinorVers`) and QuickBooks lists in its HostQuery answer; must match that QuickBooks'
   * own setting. Default {@link DEFAULT_SIMULATED_QBXML_VERSION}.
   */
  qbxmlVersion?: string;
  /** Per HTTP call; QBWC has no documented limit, so the default is generous. */
  timeoutMs?: number;
  /** Pause after getLastError answers `NoOp`; QBWC waits about 5 s. */
  noOpWaitMs?: number;
  log?: (event: WebConnectorEvent) => void;
}

export interface RunSessionOptions {
  /** Model QuickBooks failing to open the company file: connectionError instead of sendRequestXML. */
  companyFileUnavailable?: boolean;
  /** Model QBWC being killed: stop after this many round trips without closeConnection. */
  abortAfterRoundTrips?: number;
}

/** Thrown inside a run to end it with a given outcome; never escapes runSession. */
class RunEnded extends Error {
  constructor(
    readonly outcome: WebConnectorOutcome,
    readonly lastError?: string,
  ) {
    super(outcome);
  }
}

// Attributes kept: an iterator's next page (`iterator="Continue"`) is told apart from its start.
const qbxmlRequestParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  processEntities: false,
});

/**
 * The `*Rq` messages of a qbXML request by type, an iterator's next pages as `<type>(Continue)`; malformed qbXML holds
 * none (QuickBooks will reject it anyway).
 */
export function qbxmlRequestKinds(qbxml: string): Map<string, number> {
  const kinds = new Map<string, number>();
  let doc: unknown;
  try {
    doc = qbxmlRequestParser.parse(qbxml, true);
  } catch {
    return kinds;
  }
  const root = typeof doc === 'object' && doc !== null ? Reflect.get(doc, 'QBXML') : undefined;
  const msgs: unknown = typeof root === 'object' && root !== null ? Reflect.get(root, 'QBXMLMsgsRq') : undefined;
  if (typeof msgs !== 'object' || msgs === null) return kinds;
  for (const [name, value] of Object.entries(msgs)) {
    if (!name.endsWith('Rq')) continue;
    for (const request of Array.isArray(value) ? (value as unknown[]) : [value]) {
      const next = typeof request === 'object' && request !== null && Reflect.get(request, '@iterator') === 'Continue';
      const kind = next ? `${name}(Continue)` : name;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
  }
  return kinds;
}

/** Number of `*Rq` messages in a qbXML request; malformed qbXML counts 0 (QuickBooks will reject it anyway). */
export function countQbxmlRequests(qbxml: string): number {
  let count = 0;
  for (const n of qbxmlRequestKinds(qbxml).values()) count += n;
  return count;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Plays the QuickBooks Web Connector against our gateway: the client side of the QBWC SOAP conversation, with
 * QuickBooks itself replaced by a {@link CompanyFileProcessor}. Sessions never overlap, as in QBWC.
 */
export class WebConnectorSimulator {
  private readonly client: QbwcSoapClient;
  private readonly noOpWaitMs: number;
  private readonly log: (event: WebConnectorEvent) => void;
  private sessionChain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private readonly stopController = { aborted: false, wake: (): void => undefined };

  constructor(private readonly opts: WebConnectorSimulatorOptions) {
    // QBWC refuses to load such a QWC (QBWC1051), so the simulator does too
    assertAppUrlAcceptable(opts.qwc.appUrl);
    this.client = new QbwcSoapClient(opts.qwc.appUrl, opts.timeoutMs ?? 120_000);
    this.noOpWaitMs = opts.noOpWaitMs ?? 5_000;
    const logger = childLogger({ component: 'webConnectorSimulator', appName: opts.qwc.appName });
    this.log =
      opts.log ??
      ((event) => {
        if (event.type === 'runFinished') logger.info({ report: event.report }, 'web connector run finished');
        else logger.debug({ event }, 'web connector');
      });
  }

  /** Runs one update session; waits for a session already under way first. Never throws: failures are in the report. */
  runSession(opts: RunSessionOptions = {}): Promise<WebConnectorRunReport> {
    const next = this.sessionChain.then(() => this.session(opts));
    this.sessionChain = next.catch(() => undefined);
    return next;
  }

  /** Runs a session now and then every RunEveryNSeconds/RunEveryNMinutes from the QWC, measured start to start. */
  start(): void {
    if (this.scheduled) return;
    const intervalMs =
      this.opts.qwc.runEveryNSeconds !== undefined
        ? this.opts.qwc.runEveryNSeconds * 1000
        : this.opts.qwc.runEveryNMinutes !== undefined
          ? this.opts.qwc.runEveryNMinutes * 60_000
          : undefined;
    if (intervalMs === undefined || intervalMs <= 0)
      throw new Error('the QWC has no Scheduler; QBWC would not auto-run it');
    this.scheduled = true;
    this.stopController.aborted = false;
    const tick = (): void => {
      this.timer = undefined;
      if (!this.scheduled) return;
      const startedAt = Date.now();
      void this.runSession().finally(() => {
        if (this.scheduled) this.timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - startedAt)));
      });
    };
    tick();
  }

  /** Stops the timer, cuts a NoOp wait short and waits for the current session to finish. */
  async stop(): Promise<void> {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopController.aborted = true;
    this.stopController.wake();
    await this.sessionChain;
    this.stopController.aborted = false;
  }

  private async session(opts: RunSessionOptions): Promise<WebConnectorRunReport> {
    const report: WebConnectorRunReport = { outcome: 'completed', roundTrips: 0, requestsSent: 0, calls: [] };
    try {
      await this.converse(report, opts);
    } catch (err) {
      if (err instanceof RunEnded) {
        report.outcome = err.outcome;
        if (err.lastError !== undefined) report.lastError = err.lastError;
      } else {
        // SOAP Fault, HTTP failure or a malformed reply: QBWC shows the error and ends the run
        report.outcome = 'error';
        report.lastError = errorText(err);
      }
    }
    try {
      // QBWC closes its connection to QuickBooks however the run ended; the run's iterators end with it.
      await this.opts.processor.endSession?.();
    } catch (err) {
      report.lastError ??= `ending the QuickBooks session failed: ${errorText(err)}`;
    }
    this.log({ type: 'runFinished', report });
    return report;
  }

  private async call(
    report: WebConnectorRunReport,
    method: QbwcMethod,
    parameters: readonly SoapParameter[],
  ): Promise<string> {
    report.calls.push(method);
    return this.client.call(method, parameters);
  }

  private async callForString(
    report: WebConnectorRunReport,
    method: QbwcMethod,
    parameters: readonly SoapParameter[],
  ): Promise<string> {
    const result = readStringResult(method, await this.call(report, method, parameters));
    this.log({ type: 'call', method, result: result.length > 200 ? `${result.slice(0, 200)}…` : result });
    return result;
  }

  private async converse(report: WebConnectorRunReport, opts: RunSessionOptions): Promise<void> {
    await this.callForString(report, 'serverVersion', []);
    await this.clientVersion(report);

    const authBody = await this.call(report, 'authenticate', [
      ['strUserName', this.opts.qwc.userName],
      ['strPassword', this.opts.password],
    ]);
    const auth = readStringArrayResult('authenticate', authBody);
    this.log({ type: 'call', method: 'authenticate', result: JSON.stringify(auth.slice(1)) });
    const ticket = auth[0] ?? '';
    const status = auth[1] ?? '';
    if (ticket !== '') report.ticket = ticket;
    const postpone = Number.parseInt(auth[2] ?? '', 10);
    if (Number.isFinite(postpone) && postpone > 0) report.postponeSeconds = postpone;
    // QBWC still closes the connection after `nvu` and `none`, with whatever ticket authenticate handed out.
    if (status === 'nvu') {
      await this.callForString(report, 'closeConnection', [['ticket', ticket]]);
      throw new RunEnded('invalidUser', 'invalid user: the password for this user name is not valid');
    }
    if (status.toLowerCase() === 'none') {
      await this.callForString(report, 'closeConnection', [['ticket', ticket]]);
      throw new RunEnded('noWork', 'No data exchange required');
    }
    if (status === 'busy') throw new RunEnded('busy', 'the web service is busy');
    if (ticket === '') throw new RunEnded('error', 'authenticate returned no ticket');
    const companyFile = status === '' ? this.opts.companyFilePath : status;

    if (opts.companyFileUnavailable) {
      await this.connectionErrors(report, ticket);
      return;
    }
    if (opts.abortAfterRoundTrips !== undefined && opts.abortAfterRoundTrips <= 0) throw new RunEnded('aborted');

    const qbxmlVersion = this.opts.qbxmlVersion ?? DEFAULT_SIMULATED_QBXML_VERSION;
    const [major = '0', minor = '0'] = qbxmlVersion.split('.');
    let hcpResponse = hostCompanyPreferencesResponse(companyFile, qbxmlVersion);
    for (;;) {
      const request = await this.callForString(report, 'sendRequestXML', [
        ['ticket', ticket],
        ['strHCPResponse', hcpResponse],
        ['strCompanyFileName', companyFile],
        ['qbXMLCountry', 'US'],
        ['qbXMLMajorVers', Number(major)],
        ['qbXMLMinorVers', Number(minor)],
      ]);
      hcpResponse = '';
      // QBWC reads `""` (and `NoOp`) from sendRequestXML as "ask getLastError": `NoOp` there means pause and ask
      // again; any other answer, even none, is shown to the user as the run's error before closeConnection. A run
      // ends as a success only through receiveResponseXML answering 100 (reference §5–7; that an empty getLastError
      // is an error too is an assumption, docs/quickbooks.md).
      if (request === '' || request === 'NoOp') {
        const lastError = await this.callForString(report, 'getLastError', [['ticket', ticket]]);
        if (lastError === 'NoOp') {
          await this.noOpWait();
          if (this.stopController.aborted) throw new RunEnded('aborted', 'stopped while waiting after NoOp');
          continue;
        }
        await this.callForString(report, 'closeConnection', [['ticket', ticket]]);
        throw new RunEnded('error', lastError === '' ? 'sendRequestXML returned no request' : lastError);
      }

      const percent = await this.roundTrip(report, ticket, request);
      if (opts.abortAfterRoundTrips !== undefined && report.roundTrips >= opts.abortAfterRoundTrips)
        throw new RunEnded('aborted');
      if (percent > 100) throw new RunEnded('error', `receiveResponseXML returned ${percent}, above 100`);
      if (percent === 100) {
        await this.callForString(report, 'closeConnection', [['ticket', ticket]]);
        return;
      }
      if (percent < 0) {
        const lastError = await this.callForString(report, 'getLastError', [['ticket', ticket]]);
        await this.callForString(report, 'closeConnection', [['ticket', ticket]]);
        throw new RunEnded('error', lastError === '' ? `receiveResponseXML returned ${percent}` : lastError);
      }
    }
  }

  private async clientVersion(report: WebConnectorRunReport): Promise<void> {
    const answer = await this.callForString(report, 'clientVersion', [['strVersion', SIMULATED_QBWC_VERSION]]);
    if (answer.startsWith('E:')) throw new RunEnded('error', answer.slice(2));
    if (answer.startsWith('W:')) this.log({ type: 'clientVersionWarning', text: answer.slice(2) });
    if (answer.startsWith('O:')) {
      const required = answer.slice(2).trim();
      if (compareVersions(SIMULATED_QBWC_VERSION, required) < 0) {
        throw new RunEnded('error', `the service requires QuickBooks Web Connector ${required} or later`);
      }
    }
  }

  /** Hands the request to QuickBooks and reports back; returns receiveResponseXML's percent. */
  private async roundTrip(report: WebConnectorRunReport, ticket: string, request: string): Promise<number> {
    report.requestsSent += countQbxmlRequests(request);
    let response = '';
    let failure: ProcessingFailure | undefined;
    try {
      response = await this.opts.processor(request);
    } catch (err) {
      failure = processingFailureOf(err) ?? { ...UNEXPECTED_ERROR };
      this.log({ type: 'processorRejected', hresult: failure.hresult, message: failure.message });
    }
    const body = await this.call(report, 'receiveResponseXML', [
      ['ticket', ticket],
      ['response', failure ? '' : response],
      ['hresult', failure?.hresult ?? ''],
      ['message', failure?.message ?? ''],
    ]);
    report.roundTrips += 1;
    const percent = readIntResult('receiveResponseXML', body);
    this.log({ type: 'call', method: 'receiveResponseXML', result: String(percent) });
    return percent;
  }

  /**
   * QuickBooks could not open the company file. `done` ends the run; any other answer names a file to retry with,
   * which (the file still being unavailable) fails once more and ends the run. No closeConnection follows.
   */
  private async connectionErrors(report: WebConnectorRunReport, ticket: string): Promise<void> {
    const send = (): Promise<string> =>
      this.callForString(report, 'connectionError', [
        ['ticket', ticket],
        ['hresult', COMPANY_FILE_UNAVAILABLE.hresult],
        ['message', COMPANY_FILE_UNAVAILABLE.message],
      ]);
    const first = await send();
    if (first.toLowerCase() !== 'done') await send();
    throw new RunEnded('connectionError', COMPANY_FILE_UNAVAILABLE.message);
  }

  private noOpWait(): Promise<void> {
    this.log({ type: 'noOpWait', ms: this.noOpWaitMs });
    if (this.stopController.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.noOpWaitMs);
      const controller = this.stopController;
      function done(): void {
        clearTimeout(timer);
        controller.wake = (): void => undefined;
        resolve();
      }
      controller.wake = done;
    });
  }
}
