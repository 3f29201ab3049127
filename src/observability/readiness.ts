import { type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Readiness, as opposed to liveness (`/healthz`): can this process do its job right now? A gateway that cannot reach
 * Temporal answers every Web Connector call with a fault, and a worker that is not polling its task queue leaves every
 * workflow waiting, so the orchestrator (compose's healthcheck, a load balancer) should route around them.
 */
export interface Readiness {
  ready: boolean;
  /** Says what is missing, for whoever reads the probe; never a secret or an address beyond the task queue. */
  detail: string;
}

export type ReadinessCheck = () => Promise<Readiness>;

/** How long a probe waits for Temporal; orchestrators time their probes out after a few seconds. */
const PROBE_TIMEOUT_MS = 2_000;

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : 'unknown error';
}

/** The gateway: Temporal's frontend answers. */
export function temporalReachable(client: Client): ReadinessCheck {
  return async () => {
    try {
      await client.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
      return { ready: true, detail: 'Temporal is reachable' };
    } catch (error) {
      return { ready: false, detail: `Temporal is not reachable: ${reason(error)}` };
    }
  };
}

/** What the check needs of the worker: its identity as the server sees it, and its own state. */
export interface PollingWorker {
  readonly options: { identity: string };
  getState(): string;
}

export interface TaskQueuePollOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Undefined until the worker is created (the probe is served from the start). */
  worker: () => PollingWorker | undefined;
}

/**
 * The worker: running, and seen by the Temporal server polling its workflow task queue under its own identity (another
 * replica polling the same queue does not make this one ready).
 */
export function taskQueuePolled(options: TaskQueuePollOptions): ReadinessCheck {
  return async () => {
    const worker = options.worker();
    const state = worker?.getState() ?? 'STARTING';
    if (!worker || state !== 'RUNNING') return { ready: false, detail: `the worker is ${state}` };
    try {
      const answer = await options.client.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () =>
        options.client.workflowService.describeTaskQueue({
          namespace: options.namespace,
          taskQueue: { name: options.taskQueue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const polling = (answer.pollers ?? []).some((poller) => poller.identity === worker.options.identity);
      return polling
        ? { ready: true, detail: `polling task queue ${options.taskQueue}` }
        : { ready: false, detail: `not yet seen polling task queue ${options.taskQueue}` };
    } catch (error) {
      return { ready: false, detail: `Temporal is not reachable: ${reason(error)}` };
    }
  };
}
