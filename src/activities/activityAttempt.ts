import { Context } from '@temporalio/activity';
import type { AttemptContext } from '../dataverse/client';

/**
 * The attempt of the activity this code runs in, for the Dataverse client: its requests heartbeat for the attempt
 * (a worker killed mid-request is noticed within the heartbeat timeout, not the 5-minute start-to-close timeout) and
 * stop when the attempt is cancelled or timed out, so a superseded attempt never writes after its retry began.
 * Undefined outside an activity (start-up, tests calling a factory's function directly).
 */
export function currentActivityAttempt(): AttemptContext | undefined {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return undefined;
  }
  return { signal: context.cancellationSignal, heartbeat: () => context.heartbeat() };
}
