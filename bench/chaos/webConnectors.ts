import { readFileSync } from 'node:fs';
import { parseQwcFile, type QwcFile } from '../../src/gateway/qbwc/qwcFile';
import type { CompanyFileSimulator } from '../../src/sandbox/quickbooks/companyFile';
import {
  QuickBooksProcessingError,
  type CompanyFileProcessor,
} from '../../src/sandbox/webConnector/companyFileProcessor';
import {
  WebConnectorSimulator,
  type WebConnectorRunReport,
} from '../../src/sandbox/webConnector/webConnectorSimulator';

/**
 * One Web Connector per company file on a short timer, as QBWC left on Auto Run, and the QuickBooks-side faults of
 * the chaos run. A fault is armed for the file's next sessions and counted only once it actually hit:
 * - `qbwcCutAfterWrite`: QuickBooks applies a write (an Add or Mod), then the session dies before QBWC reports the
 *   answer (QBWC or the machine killed);
 * - `qbwcCutMidIterator`: the session dies after QuickBooks opened or continued an iterator, before the page is
 *   reported;
 * - `qbwcConnectionError`: QuickBooks cannot open the company file (QBWC calls connectionError);
 * - `qbwcErrorHresult`: QuickBooks throws on a request instead of answering (receiveResponseXML with an hresult).
 */

export type QuickBooksFaultKind =
  'qbwcCutAfterWrite' | 'qbwcCutMidIterator' | 'qbwcConnectionError' | 'qbwcErrorHresult';

const WRITE_REQUEST = /<\w+(Add|Mod|Del)Rq[\s>]/;
const ITERATOR_REQUEST = /iterator="(Start|Continue)"/;
/** hresults QBWC passes on when QuickBooks fails a request (reference: QBWC's receiveResponseXML). */
const HRESULTS: readonly { hresult: string; message: string }[] = [
  {
    hresult: '0x80040402',
    message: 'Unexpected error. Check the qbsdklog.txt file for possible, additional information.',
  },
  { hresult: '0x80040408', message: 'Could not start QuickBooks.' },
  {
    hresult: '0x80040410',
    message:
      'The QuickBooks company data file is currently open in a mode other than the one specified by your application.',
  },
];
/** A fault that found nothing to hit in this many sessions is dropped (and not counted). */
const ARMED_SESSIONS = 30;

export interface WebConnectorDriverOptions {
  connection: string;
  qwcFile: string;
  password: string;
  companyFilePath: string;
  companyFile: CompanyFileSimulator;
  everyMs: number;
  /**
   * The gateway replica this Web Connector talks to, when not the .qwc file's: a firm's company files are spread over
   * the gateways behind its address, each Web Connector keeping to the one its .qwc names.
   */
  gatewayPort?: number;
  onHit: (kind: QuickBooksFaultKind) => void;
  random: () => number;
}

export class WebConnectorDriver {
  private readonly qwc: QwcFile;
  private readonly simulator: WebConnectorSimulator;
  private armed: { kind: QuickBooksFaultKind; sessionsLeft: number }[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  readonly reports: WebConnectorRunReport[] = [];
  /** Sessions abandoned by a cut: their promises never settle, as a killed QBWC never answers. */
  abandoned = 0;
  /** Faults dropped because no session gave them anything to hit. */
  expired = 0;

  constructor(private readonly opts: WebConnectorDriverOptions) {
    const qwc = parseQwcFile(readFileSync(opts.qwcFile, 'utf8'));
    if (opts.gatewayPort !== undefined) {
      const url = new URL(qwc.appUrl);
      url.port = String(opts.gatewayPort);
      qwc.appUrl = url.toString();
    }
    this.qwc = qwc;
    this.simulator = this.newSimulator(this.process);
  }

  private readonly process: CompanyFileProcessor = (xml) => Promise.resolve(this.opts.companyFile.processRequest(xml));

  private newSimulator(processor: CompanyFileProcessor): WebConnectorSimulator {
    return new WebConnectorSimulator({
      qwc: this.qwc,
      password: this.opts.password,
      companyFilePath: this.opts.companyFilePath,
      // QuickBooks forgets a session's iterators when QBWC ends it.
      processor: Object.assign(processor, { endSession: () => this.opts.companyFile.endSession() }),
      timeoutMs: 60_000,
      noOpWaitMs: 250,
      log: () => undefined,
    });
  }

  arm(kind: QuickBooksFaultKind): void {
    this.armed.push({ kind, sessionsLeft: ARMED_SESSIONS });
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = Date.now();
        await this.session();
        await new Promise((r) => setTimeout(r, Math.max(50, this.opts.everyMs - (Date.now() - t))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Faults armed and not yet spent: neither hit nor dropped. */
  get armedFaults(): number {
    return this.armed.length;
  }

  /** Drops armed faults (the run's fault phase is over). */
  disarm(): void {
    this.armed = [];
  }

  private async session(): Promise<void> {
    const fault = this.armed[0];
    if (fault === undefined) {
      this.reports.push(await this.simulator.runSession());
      return;
    }
    fault.sessionsLeft -= 1;
    if (fault.sessionsLeft < 0) {
      this.armed.shift();
      this.expired += 1;
      this.reports.push(await this.simulator.runSession());
      return;
    }
    if (fault.kind === 'qbwcConnectionError') {
      // Only a session with work opens the company file; one answered `none` leaves the fault armed.
      const report = await this.simulator.runSession({ companyFileUnavailable: true });
      this.reports.push(report);
      if (report.outcome === 'connectionError') {
        this.armed.shift();
        this.opts.onHit(fault.kind);
      }
      return;
    }
    if (fault.kind === 'qbwcErrorHresult') {
      let hit = false;
      // The hresult goes to the first request of a session that has one; the next session gets it otherwise.
      const failing = this.newSimulator((xml) => {
        if (hit) return this.process(xml);
        hit = true;
        const failure = HRESULTS[Math.floor(this.opts.random() * HRESULTS.length)] ?? HRESULTS[0]!;
        return Promise.reject(new QuickBooksProcessingError(failure.hresult, failure.message));
      });
      this.reports.push(await failing.runSession());
      if (hit) {
        this.armed.shift();
        this.opts.onHit(fault.kind);
      }
      return;
    }
    // A cut: a simulator of its own, abandoned at the cut with its session never finished.
    const pattern = fault.kind === 'qbwcCutAfterWrite' ? WRITE_REQUEST : ITERATOR_REQUEST;
    let cut: () => void = () => undefined;
    const cutHappened = new Promise<'cut'>((r) => {
      cut = () => r('cut');
    });
    const doomed = this.newSimulator(async (xml) => {
      const answer = await this.process(xml);
      if (!pattern.test(xml)) return answer;
      cut();
      return new Promise<string>(() => undefined);
    });
    const outcome = await Promise.race([doomed.runSession(), cutHappened]);
    if (outcome === 'cut') {
      // The Web Connector is gone, so QuickBooks' connection to it closes and its iterators with it.
      this.opts.companyFile.endSession();
      this.armed.shift();
      this.abandoned += 1;
      this.opts.onHit(fault.kind);
    } else {
      this.reports.push(outcome);
    }
  }
}
