import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { DataverseSandboxStats } from '../../src/sandbox/dataverse/server';

/** How many calls of a bulk message (`accounts/UpdateMultiple`) the sandbox received between two readings. */
export function calls(before: DataverseSandboxStats, after: DataverseSandboxStats, message: string): number {
  return (after.bulkMessages[message] ?? 0) - (before.bulkMessages[message] ?? 0);
}

/** One attempt of an activity, in an activity context of its own as the worker would run it. */
export function runAttempt<I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment().run(activity, input) as Promise<O>;
}

/** Runs every input's attempt at once; the ones that fail retryably run again, together, as Temporal would retry them. */
export async function runWithRetries<I, O>(activity: (input: I) => Promise<O>, inputs: readonly I[]): Promise<O[]> {
  const results: (O | undefined)[] = inputs.map(() => undefined);
  let todo = inputs.map((_, i) => i);
  for (let round = 0; round < 5 && todo.length > 0; round++) {
    const settled = await Promise.allSettled(todo.map((i) => runAttempt(activity, inputs[i]!)));
    const again: number[] = [];
    settled.forEach((s, k) => {
      const i = todo[k]!;
      if (s.status === 'fulfilled') results[i] = s.value;
      else if (s.reason instanceof ApplicationFailure && s.reason.nonRetryable) throw s.reason;
      else again.push(i);
    });
    todo = again;
  }
  assert.equal(todo.length, 0, 'some attempts kept failing');
  return results as O[];
}
