import { utf8Bytes } from '../../mapping/payloadBytes';
import type { CompanyFileInput } from './input';

/**
 * What a company file carries over continue-as-new, kept within Temporal's payload limit. The input is one payload,
 * refused by the server above 2 MB (`limit.blobSize.error`, warned of above 512 KB): a run whose queue held more could
 * not hand over, and every request queued in it would be lost with it. A burst makes exactly that queue: the history
 * that triggers the handover (8 MB) is made of the very batches still queued.
 */

/** The size of `input` as a payload. */
export function handoverBytes(input: CompanyFileInput): number {
  return utf8Bytes(JSON.stringify(input));
}

export interface FittedHandover {
  input: CompanyFileInput;
  /** Own writes left out, oldest first: each such record merely syncs once as unchanged. */
  forgotten: number;
  /**
   * Still over the limit without any own write, queued or in-flight request (cursors and accepted batches of an unusual
   * size): waiting would not help, so the run hands over what it has, as it did before the limit.
   */
  overLimit?: true;
}

/**
 * `input` within `maxBytes`, forgetting the oldest own writes if that is enough; undefined when the queue (with the
 * requests in flight) is what makes it larger: the run must then serve on until the Web Connector has drained enough
 * of it. Nothing else is
 * dropped: a queued request, an accepted batch's key or a Mod in flight lost here would be a record lost or written
 * twice.
 */
export function fitHandover(input: CompanyFileInput, maxBytes: number): FittedHandover | undefined {
  const total = handoverBytes(input);
  if (total <= maxBytes) return { input, forgotten: 0 };
  const entries = Object.entries(input.ownWrites ?? {});
  const withoutOwnWrites = { ...input, ownWrites: {} };
  if (handoverBytes(withoutOwnWrites) > maxBytes) {
    const state = input.state;
    const withoutQueue =
      state === undefined
        ? undefined
        : handoverBytes({ ...withoutOwnWrites, state: { ...state, queue: [], inFlight: [] } });
    if (withoutQueue !== undefined && withoutQueue <= maxBytes) return undefined;
    return { input: withoutOwnWrites, forgotten: entries.length, overLimit: true };
  }
  // Each entry writes `"id":"editSequence"` and a comma; newest last, as the company file remembers them.
  let excess = total - maxBytes;
  let forgotten = 0;
  while (excess > 0 && forgotten < entries.length) {
    const [id, editSequence] = entries[forgotten]!;
    excess -= utf8Bytes(JSON.stringify(id)) + utf8Bytes(JSON.stringify(editSequence)) + 2;
    forgotten += 1;
  }
  return { input: { ...input, ownWrites: Object.fromEntries(entries.slice(forgotten)) }, forgotten };
}

/**
 * The bytes queued and in-flight requests add to a handover, each request measured once: the run waiting to hand over
 * asks at every session call, and the same calls are replayed whenever the run leaves the worker's cache, so measuring
 * the whole input each time made each replay slower than the workflow task's timeout.
 */
export class RequestBytes {
  private readonly sizes = new WeakMap<object, number>();

  of(requests: readonly object[]): number {
    let bytes = 0;
    for (const request of requests) {
      let size = this.sizes.get(request);
      if (size === undefined) {
        // Its JSON and the comma after it.
        size = utf8Bytes(JSON.stringify(request)) + 1;
        this.sizes.set(request, size);
      }
      bytes += size;
    }
    return bytes;
  }
}
