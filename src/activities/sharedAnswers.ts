/**
 * Reads shared by the activities that ask at the same time, each answered by a read sent after its own call: while a
 * read of a key is in flight, callers that arrive wait for the next one, sent when it returns, and share its answer.
 * A caller never gets an answer older than its call (what changed before it asked is seen, as with a read of its
 * own), and a key has at most two reads out at a time. Used for the company file's queries (`companyFileQueries.ts`)
 * and the Dataverse choice options every record run loads with its sync context (`syncContext.ts`).
 *
 * Every read is bounded by `timeoutMs`: a read that never answers (a workflow query with no worker to answer it, a
 * request whose connection hangs) would otherwise hold its key for good, and every later caller, each attempt's retry
 * included, would queue behind it for ever. Past the bound its callers fail with `SharedReadTimedOutError`, which
 * their activities retry, and the next caller sends a read of its own.
 */
export interface SharedAnswerOptions {
  /** How long one read may stay out (default 60 s). */
  timeoutMs?: number;
  /** What is read, for the error a read that outlived its bound gives (no key: keys may name customer data). */
  what?: string;
}

class SharedReadTimedOutError extends Error {
  override readonly name = 'SharedReadTimedOutError';
}

export function sharedAnswers<T>(
  read: (key: string) => Promise<T>,
  options: SharedAnswerOptions = {},
): (key: string) => Promise<T> {
  const timeoutMs = Math.max(1, options.timeoutMs ?? 60_000);
  const what = options.what ?? 'a shared read';
  const rounds = new Map<string, { inFlight?: Promise<T>; next?: Promise<T> }>();
  const bounded = (key: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SharedReadTimedOutError(`${what} had no answer after ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
      let reading: Promise<T>;
      try {
        reading = read(key);
      } catch (err) {
        // A read that throws at once fails its callers like one that rejects.
        reading = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      reading.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  const send = (round: { inFlight?: Promise<T> }, key: string): Promise<T> => {
    const sent = bounded(key);
    round.inFlight = sent;
    const settled = () => {
      if (round.inFlight === sent) round.inFlight = undefined;
    };
    sent.then(settled, settled);
    return sent;
  };
  return (key: string): Promise<T> => {
    let round = rounds.get(key);
    if (!round) {
      round = {};
      rounds.set(key, round);
    }
    const current = round;
    if (!current.inFlight) return send(current, key);
    if (!current.next) {
      const afterCurrent = current.inFlight.then(
        () => undefined,
        () => undefined,
      );
      current.next = afterCurrent.then(() => {
        current.next = undefined;
        return send(current, key);
      });
    }
    return current.next;
  };
}
