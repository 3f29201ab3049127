/**
 * Reads shared by the activities that ask at the same time, each answered by a read sent after its own call: while a
 * read of a key is in flight, callers that arrive wait for the next one, sent when it returns, and share its answer.
 * A caller never gets an answer older than its call (what changed before it asked is seen, as with a read of its
 * own), and a key has at most two reads out at a time. Used for the company file's queries (`companyFileQueries.ts`)
 * and the Dataverse choice options every record run loads with its sync context (`syncContext.ts`).
 */
export function sharedAnswers<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const rounds = new Map<string, { inFlight?: Promise<T>; next?: Promise<T> }>();
  const send = (round: { inFlight?: Promise<T> }, key: string): Promise<T> => {
    const sent = read(key);
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
