import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { Logger } from 'pino';
import {
  recordCompanyFileAnswered,
  recordCompanyFileUnanswered,
  recordQbwcRoundTrip,
  recordQbwcSession,
} from '../../observability/metrics';
import { buildQbxmlMessage, type QbxmlOmission } from '../../qbxml/build';
import { endOfRunMessage, isEndOfRunAnswer } from '../../qbxml/endOfRun';
import { hostTimeZone, withLocalFilterTimes, withTrueOffsets } from '../../qbxml/localTime';
import { chooseQbxmlVersion } from '../../qbxml/versions';
import { readQbxmlAnswer } from '../../qbxml/parse';
import type { QueueLimits } from '../../workflows/companyFile/companyFileState';
import { UNREADABLE_ANSWER_HRESULT } from '../../workflows/companyFile/unreadableAnswers';
import { companyFile } from '../../workflows/companyFile/workflow';
import {
  closeSessionUpdate,
  companyFileWorkflowId,
  connectionErrorUpdate,
  lastErrorQuery,
  openSessionUpdate,
  receiveResponseUpdate,
  queuedWritersQuery,
  takeRequestsUpdate,
  type GoneRequester,
  type ReceiveResponseInput,
} from '../../workflows/companyFile/messages';
import { type QbwcConnection } from '../../config/deployment';
import { AuthenticationGuard } from './authenticationGuard';
import { hashTicket, type TicketAuthority } from './tickets';
import { webConnectorReport } from './webConnectorReport';

export interface QbwcServiceDeps {
  client: Client;
  taskQueue: string;
  connections: () => readonly QbwcConnection[];
  /** Shared by every gateway of the deployment, so a ticket minted by one is honoured by all. */
  tickets: TicketAuthority;
  log: Logger;
  /** How long one SOAP call waits for the workflow (a stopped worker must not hang QBWC forever). */
  callTimeoutMs?: number;
  serverVersion?: string;
  /** Throttles password checks; one per gateway process (its counters are not shared between replicas). */
  authentication?: AuthenticationGuard;
  /** Must match the worker's: whichever starts the company file's workflow first sets them. */
  queueLimits?: Partial<QueueLimits>;
  /** The most one receiveResponse Update may carry, as JSON; Temporal refuses a payload over 2 MB. */
  maxUpdateBytes?: number;
}

/** Leaves room under Temporal's 2 MB payload limit for the encryption envelope and the Update's own fields. */
const DEFAULT_MAX_UPDATE_BYTES = 1536 * 1024;

/**
 * Moves the largest responses out of an answer, as unreadable, until it fits one Update: Temporal refuses a larger
 * one, and a refused Update would leave the message in doubt and send its queries again and again.
 */
function fitIntoUpdate(input: ReceiveResponseInput, maxBytes: number): void {
  const responses = input.responses;
  if (!responses) return;
  const sizes = new Map(responses.map((r) => [r, Buffer.byteLength(JSON.stringify(r), 'utf8')]));
  let total = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (total <= maxBytes) return;
  const kept = new Set(responses);
  for (const response of [...responses].sort((a, b) => sizes.get(b)! - sizes.get(a)!)) {
    if (total <= maxBytes) break;
    const size = sizes.get(response)!;
    kept.delete(response);
    total -= size;
    input.unreadable = [
      ...(input.unreadable ?? []),
      {
        ...(response.requestId === undefined ? {} : { requestId: response.requestId }),
        reason: `its answer (${response.records.length} records, ${(size / 1048576).toFixed(1)} MB) is more than one Update may carry (${(maxBytes / 1048576).toFixed(1)} MB)`,
      },
    ];
  }
  input.responses = responses.filter((r) => kept.has(r));
}

type Args = Record<string, unknown>;

/** What the `soap` package hands a method as its fourth argument; the endpoint fills in the caller's address. */
interface SoapRequest {
  connection?: { remoteAddress?: string };
}

function text(args: Args, name: string): string {
  const value = args[name];
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return '';
  return String(value);
}

/**
 * What QBWC is told when a genuine ticket's session has ended: superseded by a newer run, expired, closed, or its
 * company file's workflow is no longer running. QBWC shows it and closes the connection; the next scheduled run
 * authenticates afresh.
 */
const SESSION_ENDED =
  'This Web Connector run has ended (its ticket is no longer the company file’s session); the next scheduled run starts a new one.';

/**
 * The company file refused the call because the ticket is not its live session's: its Update validator rejects such a
 * ticket (nothing reaches the history), and a workflow that is no longer running has no session at all. Either way the
 * session is over, which QBWC must hear in its own terms, never as a SOAP Fault.
 */
function sessionEnded(error: unknown): boolean {
  return error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError;
}

/**
 * The eight QBWC callbacks. Each one is a Workflow Update (or Query) on the company file's workflow: the gateway
 * keeps no session state of its own, so any replica can answer any call and a restart loses nothing.
 */
export function createQbwcService(deps: QbwcServiceDeps) {
  const timeoutMs = deps.callTimeoutMs ?? 30_000;
  const guard = deps.authentication ?? new AuthenticationGuard();
  const handleFor = (connection: string) => deps.client.workflow.getHandle(companyFileWorkflowId(connection));
  const withDeadline = <T>(fn: () => Promise<T>): Promise<T> => deps.client.withDeadline(Date.now() + timeoutMs, fn);
  /**
   * Tickets whose company file did not answer (its workflow is stuck: no worker, or workflow tasks failing), with the
   * words QBWC shows: the rest of that run is answered from here, and getLastError names the cause instead of QBWC
   * showing a bare SOAP Fault. Per process; a call another replica takes asks the workflow again.
   */
  const unanswered = new Map<string, string>();
  const noteUnanswered = (connection: string, ticketHash: string, call: string, error: unknown): string => {
    const consecutive = recordCompanyFileUnanswered(connection, call);
    const message =
      `The connector's company file "${connection}" (workflow ${companyFileWorkflowId(connection)}) did not answer ` +
      `within ${Math.round(timeoutMs / 1000)} s and is not making progress. Run \`qbsync check\` on the connector's ` +
      "server; the worker's log names the cause.";
    deps.log.error(
      { connection, call, consecutive, err: error },
      'company file did not answer the Web Connector: it is not making progress',
    );
    unanswered.set(ticketHash, message);
    // Oldest first: a stuck file's tickets must not grow the map without bound.
    for (const key of unanswered.keys()) {
      if (unanswered.size <= 1000) break;
      unanswered.delete(key);
    }
    return message;
  };
  /**
   * Tickets whose QuickBooks is older than the oldest qbXML the connector writes, with the words QBWC shows from
   * getLastError. Per process: another replica answering that getLastError refuses the next sendRequestXML the same
   * way (the version comes with every call), only its getLastError words may then be the generic ones.
   */
  const refused = new Map<string, string>();
  const noteRefused = (ticketHash: string, message: string): void => {
    refused.set(ticketHash, message);
    for (const key of refused.keys()) {
      if (refused.size <= 1000) break;
      refused.delete(key);
    }
  };
  /**
   * One call on the ticket's session; `ended` is QBWC's documented answer when that session is over, `stuck` the
   * answer when the company file does not answer at all.
   */
  const onSession = async <T>(
    session: { connection: string; ticketHash: string },
    call: string,
    work: () => Promise<T>,
    ended: T,
    stuck: T = ended,
  ): Promise<T> => {
    if (unanswered.has(session.ticketHash)) return stuck;
    try {
      const answer = await withDeadline(work);
      recordCompanyFileAnswered(session.connection);
      return answer;
    } catch (error) {
      if (!sessionEnded(error)) {
        noteUnanswered(session.connection, session.ticketHash, call, error);
        return stuck;
      }
      recordCompanyFileAnswered(session.connection);
      deps.log.info({ connection: session.connection }, 'QBWC call with the ticket of a session that has ended');
      return ended;
    }
  };
  /**
   * The requester runs among `writers` that no longer run (terminated, reset, or replaced by a new run under the same
   * workflow id): their writes must not reach QuickBooks, where nobody would record what they did.
   */
  const goneWriters = async (writers: GoneRequester[]): Promise<GoneRequester[]> => {
    const verdicts = await Promise.all(
      writers.map(async (writer) => {
        try {
          const described = await deps.client.workflow.getHandle(writer.requester).describe();
          return described.status.name !== 'RUNNING' || described.runId !== writer.runId;
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return true;
          throw error;
        }
      }),
    );
    return writers.filter((_, i) => verdicts[i]);
  };
  const known = (ticket: string): { connection: string; ticketHash: string; timeZone: string } | undefined => {
    // A ticket no gateway of this deployment minted stops here: it never becomes an Update in a workflow's history.
    const verified = deps.tickets.verify(ticket);
    const connection = verified && deps.connections().find((c) => c.name === verified.connection);
    if (!verified || !connection) return undefined;
    return { ...verified, timeZone: connection.timeZone ?? hostTimeZone() };
  };

  const openSession = (ticket: string, connection: string) =>
    withDeadline(() =>
      deps.client.workflow.executeUpdateWithStart(openSessionUpdate, {
        args: [{ ticketHash: hashTicket(ticket) }],
        startWorkflowOperation: new WithStartWorkflowOperation(companyFile, {
          workflowId: companyFileWorkflowId(connection),
          taskQueue: deps.taskQueue,
          args: [{ connection, ...(deps.queueLimits ? { limits: deps.queueLimits } : {}) }],
          workflowIdConflictPolicy: 'USE_EXISTING',
        }),
      }),
    );

  const methods = {
    serverVersion: async (): Promise<{ serverVersionResult: string }> => ({
      serverVersionResult: deps.serverVersion ?? '1.0.0',
    }),

    clientVersion: async (args: Args): Promise<{ clientVersionResult: string }> => {
      const major = Number.parseInt(text(args, 'strVersion').split('.')[0] ?? '', 10);
      // Iterators and qbXML 13 need a Web Connector of the 2.x line.
      return { clientVersionResult: Number.isFinite(major) && major < 2 ? 'O:2.0' : '' };
    },

    authenticate: async (
      args: Args,
      _callback?: unknown,
      _soapHeaders?: unknown,
      request?: SoapRequest,
    ): Promise<{ authenticateResult: { string: string[] } }> => {
      const userName = text(args, 'strUserName');
      const address = request?.connection?.remoteAddress ?? 'unknown';
      const connection = deps.connections().find((c) => c.userName === userName);
      const verdict = await guard.check(userName, address, text(args, 'strPassword'), connection?.passwordHash);
      if (verdict !== 'valid' || !connection) {
        deps.log.warn({ userName, address, verdict }, 'QBWC authentication refused');
        // `busy` makes the Web Connector try again later instead of reporting a wrong password to the user.
        const answer = verdict === 'invalid' ? 'nvu' : 'busy';
        recordQbwcSession(connection?.name ?? 'unknown', answer);
        return { authenticateResult: { string: ['', answer] } };
      }
      const ticket = deps.tickets.mint(connection.name);
      let status: Awaited<ReturnType<typeof openSession>>;
      try {
        status = await openSession(ticket, connection.name);
        recordCompanyFileAnswered(connection.name);
      } catch (error) {
        // A session whose calls are answered from here: sendRequestXML answers nothing, and QBWC's getLastError then
        // shows the Web Connector's user why, instead of a SOAP Fault.
        noteUnanswered(connection.name, hashTicket(ticket), 'authenticate', error);
        return { authenticateResult: { string: [ticket, connection.companyFilePath ?? ''] } };
      }
      deps.log.info({ connection: connection.name, status }, 'QBWC session requested');
      recordQbwcSession(connection.name, status);
      const slot = status === 'ok' ? (connection.companyFilePath ?? '') : status;
      return { authenticateResult: { string: [ticket, slot] } };
    },

    sendRequestXML: async (args: Args): Promise<{ sendRequestXMLResult: string }> => {
      const session = known(text(args, 'ticket'));
      if (!session) return { sendRequestXMLResult: '' };
      const report = webConnectorReport({
        hcpResponse: text(args, 'strHCPResponse'),
        companyFileName: text(args, 'strCompanyFileName'),
        country: text(args, 'qbXMLCountry'),
        qbxmlMajor: Number(args.qbXMLMajorVers),
        qbxmlMinor: Number(args.qbXMLMinorVers),
      });
      const choice = chooseQbxmlVersion(
        Number(args.qbXMLMajorVers),
        Number(args.qbXMLMinorVers),
        report?.quickbooks?.supportedQbxmlVersions,
      );
      if (choice.kind === 'refused') {
        // Nothing is taken from the queue: it waits, intact, for a QuickBooks the connector can write to.
        deps.log.error(
          { connection: session.connection, offered: choice.offered },
          'QuickBooks is older than the oldest qbXML version the connector writes; nothing sent',
        );
        noteRefused(session.ticketHash, choice.reason);
        return { sendRequestXMLResult: '' };
      }
      const version = choice.version;
      const result = await onSession(
        session,
        'takeRequests',
        async () => {
          const handle = handleFor(session.connection);
          // A run of the legacy design has no such query; its queue is then sent as it was.
          const writers = await handle.query(queuedWritersQuery).catch((): GoneRequester[] => []);
          const goneRequesters = await goneWriters(writers);
          return handle.executeUpdate(takeRequestsUpdate, {
            args: [
              {
                ticketHash: session.ticketHash,
                ...(report ? { report } : {}),
                ...(goneRequesters.length > 0 ? { goneRequesters } : {}),
              },
            ],
          });
        },
        { status: 'invalidTicket' } as const,
      );
      // QBWC then calls getLastError, which answers `NoOp` too, and pauses before asking again.
      if (result.status === 'noOp') return { sendRequestXMLResult: 'NoOp' };
      // A session that has ended (or a company file that does not answer): QBWC asks getLastError and shows why.
      if (result.status !== 'ok') return { sendRequestXMLResult: '' };
      if (result.requests.length === 0) {
        // The live session has nothing more (a follow-up it waited for did not come): `""` would end it as an error
        // in QBWC's eyes, so it ends with a HostQuery whose answer receiveResponseXML acknowledges with 100.
        deps.log.info({ connection: session.connection }, 'QBWC run ends: nothing more to send');
        return { sendRequestXMLResult: endOfRunMessage(version) };
      }
      // QuickBooks reads filter dates as the company file's local time, so they go out as that, without an offset.
      const zone = session.timeZone;
      const requests = result.requests.map((request) => withLocalFilterTimes(request, zone));
      const omitted: QbxmlOmission[] = [];
      const xml = buildQbxmlMessage(requests, {
        version,
        onError: 'continueOnError',
        onOmitted: (o) => omitted.push(o),
      });
      if (omitted.length > 0) {
        // Field names only: QuickBooks of this version has no element for them, so they are not written.
        deps.log.warn(
          { connection: session.connection, version, omitted: omitted.slice(0, 50) },
          'fields this QuickBooks version has no element for were left out',
        );
      }
      deps.log.info(
        { connection: session.connection, requests: result.requests.length, version },
        'qbXML sent to QBWC',
      );
      return { sendRequestXMLResult: xml };
    },

    receiveResponseXML: async (args: Args): Promise<{ receiveResponseXMLResult: number }> => {
      const session = known(text(args, 'ticket'));
      if (!session) return { receiveResponseXMLResult: -1 };
      const response = text(args, 'response');
      // The answer to the closing HostQuery: the run is done, and closeConnection ends the company file's session.
      if (isEndOfRunAnswer(response)) return { receiveResponseXMLResult: 100 };
      const input: ReceiveResponseInput = { ticketHash: session.ticketHash };
      if (response.trim() === '') {
        input.hresult = text(args, 'hresult');
        input.message = text(args, 'message');
      } else {
        try {
          const answer = readQbxmlAnswer(response);
          // Stamps are read in the company file's zone here, the one place QuickBooks' answers enter the connector.
          withTrueOffsets(answer.responses, session.timeZone);
          input.responses = answer.responses;
          if (answer.unreadable.length > 0) input.unreadable = answer.unreadable;
          fitIntoUpdate(input, deps.maxUpdateBytes ?? DEFAULT_MAX_UPDATE_BYTES);
        } catch (error) {
          input.hresult = UNREADABLE_ANSWER_HRESULT;
          input.message = `The qbXML response could not be read: ${(error as Error).message}`;
        }
        if (input.unreadable) {
          // Request ids and the reader's reasons only: the answer itself holds customer data.
          deps.log.warn(
            { connection: session.connection, unreadable: input.unreadable },
            'QuickBooks answer unreadable',
          );
        }
      }
      // Only the workflow knows whether the ticket is the live session's: a stale one answers -1, and QBWC then asks
      // getLastError why.
      const percent = await onSession(
        session,
        'receiveResponse',
        () => handleFor(session.connection).executeUpdate(receiveResponseUpdate, { args: [input] }),
        -1,
      );
      if (percent >= 0) recordQbwcRoundTrip(session.connection);
      return { receiveResponseXMLResult: Math.trunc(percent) };
    },

    connectionError: async (args: Args): Promise<{ connectionErrorResult: string }> => {
      const session = known(text(args, 'ticket'));
      if (session) {
        deps.log.warn({ connection: session.connection, hresult: text(args, 'hresult') }, 'QBWC connection error');
        await onSession(
          session,
          'connectionError',
          () =>
            handleFor(session.connection).executeUpdate(connectionErrorUpdate, {
              args: [
                { ticketHash: session.ticketHash, hresult: text(args, 'hresult'), message: text(args, 'message') },
              ],
            }),
          'done',
        );
      }
      return { connectionErrorResult: 'done' };
    },

    getLastError: async (args: Args): Promise<{ getLastErrorResult: string }> => {
      const session = known(text(args, 'ticket'));
      if (!session) return { getLastErrorResult: 'The ticket is unknown or has expired.' };
      const refusal = refused.get(session.ticketHash);
      if (refusal !== undefined) return { getLastErrorResult: refusal };
      const error = await onSession(
        session,
        'lastError',
        () => handleFor(session.connection).query(lastErrorQuery, { ticketHash: session.ticketHash }),
        '',
      );
      const stuck = unanswered.get(session.ticketHash);
      if (stuck) return { getLastErrorResult: stuck };
      // The company file has no error for a ticket that is not its live session's: that session has ended.
      return { getLastErrorResult: error || SESSION_ENDED };
    },

    closeConnection: async (args: Args): Promise<{ closeConnectionResult: string }> => {
      const session = known(text(args, 'ticket'));
      if (!session) return { closeConnectionResult: 'The ticket is unknown or has expired.' };
      // QBWC closes the connection even after `none` or `nvu`, when no session was opened for the ticket, and after a
      // session the company file already ended. There is nothing to close then, and a SOAP Fault would show QBWC an
      // error for a run that went well.
      const message = await onSession(
        session,
        'closeSession',
        () =>
          handleFor(session.connection).executeUpdate(closeSessionUpdate, {
            args: [{ ticketHash: session.ticketHash }],
          }),
        'No QuickBooks session was open for this ticket.',
      );
      refused.delete(session.ticketHash);
      const stuck = unanswered.get(session.ticketHash);
      if (stuck) {
        unanswered.delete(session.ticketHash);
        return { closeConnectionResult: stuck };
      }
      return { closeConnectionResult: message };
    },
  };
  return methods;
}

export type QbwcService = ReturnType<typeof createQbwcService>;
