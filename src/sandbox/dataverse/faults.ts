import { DataverseError, ErrorCodes } from './dataverseError';

/**
 * The Dataverse sandbox's fault-injection control surface, for the chaos run (bench/chaos) only: nothing creates one
 * unless it is handed to `startDataverseSandbox({ faults })`. Each fault is armed explicitly and models what the real
 * service does: a service-protection 429 storm (with Retry-After, as Dataverse sends it), a 503 storm (no Retry-After,
 * as a gateway in front of the organisation sends it), a write that commits and whose answer never arrives (the
 * client cannot tell it from a timeout), and webhooks delivered more than once and out of order (the asynchronous
 * service retries deliveries and does not keep their order).
 */
export class DataverseFaults {
  private storm: { status: 429 | 503; until: number } | undefined;
  private lostAnswers = 0;
  private webhookPlan: { copies: number; extraDelayMs: number }[] = [];
  /** What was actually done, by kind: a fault armed but never hit is not counted. */
  readonly injected = { throttled429: 0, unavailable503: 0, answerLostAfterCommit: 0, webhookDuplicated: 0 };

  /** True while a storm refuses requests. */
  stormActive(now = Date.now()): boolean {
    return this.storm !== undefined && now < this.storm.until;
  }

  /** Every Web API request is refused with `status` for `ms`. */
  startStorm(status: 429 | 503, ms: number, now = Date.now()): void {
    this.storm = { status, until: now + ms };
  }

  /** The next `count` writes commit, then their connection is cut before the answer. */
  loseAnswersAfterCommit(count = 1): void {
    this.lostAnswers += count;
  }

  /** Lost answers armed and not yet applied to a write. */
  get armedLostAnswers(): number {
    return this.lostAnswers;
  }

  /**
   * The next webhook event is delivered `copies` times, the copies after the first `extraDelayMs` later, so events
   * dispatched in between overtake them.
   */
  duplicateNextWebhook(copies = 2, extraDelayMs = 1500): void {
    this.webhookPlan.push({ copies, extraDelayMs });
  }

  clear(): void {
    this.storm = undefined;
    this.lostAnswers = 0;
    this.webhookPlan = [];
  }

  /** Called before a Web API request is admitted: the refusal to answer with, if a storm is on. */
  refusal(now = Date.now()): DataverseError | undefined {
    if (this.storm === undefined) return undefined;
    if (now >= this.storm.until) {
      this.storm = undefined;
      return undefined;
    }
    if (this.storm.status === 429) {
      this.injected.throttled429 += 1;
      return new DataverseError(
        429,
        ErrorCodes.requestsThrottled,
        'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
        { 'Retry-After': '2' },
      );
    }
    this.injected.unavailable503 += 1;
    return new DataverseError(503, '', 'The service is temporarily unavailable.');
  }

  /**
   * Called after a write committed: true when its answer must be lost. Only the connector's writes (they carry its
   * `tag`) lose answers: the chaos run's own writes play users, whose outcome the run must know.
   */
  loseAnswer(method: string, tag: string | undefined): boolean {
    if (this.lostAnswers === 0 || method === 'GET' || tag === undefined) return false;
    this.lostAnswers -= 1;
    this.injected.answerLostAfterCommit += 1;
    return true;
  }

  /** Delays of the deliveries of one webhook event (one delay per copy). */
  deliveryDelays(baseDelayMs: number): number[] {
    const plan = this.webhookPlan.shift();
    if (plan === undefined) return [baseDelayMs];
    this.injected.webhookDuplicated += 1;
    return Array.from({ length: plan.copies }, (_, i) => baseDelayMs + (i === 0 ? 0 : plan.extraDelayMs * i));
  }
}
