/**
 * The bounded loops that remain beside Temporal's retry policies. A transient failure (a timeout, throttling, a
 * dropped connection) is retried by the activity retry policy (`workflows/sync/activities.ts`); these loops are for
 * answers that are not failures but news: the record moved under us, or an answer was lost. Each re-reads before it
 * tries again, so a loop never repeats a write blindly.
 */

/**
 * A Dataverse row changed between our read and our write (a 412 on `If-Match`, or a create that lost the race to a
 * webhook run): read it again and merge again. A burst of saves in Dynamics (an order and its lines, a form saved
 * twice) settles within a few re-reads; five leaves room for that without spinning on a row a script rewrites in a
 * loop, which then fails retryably and comes back through the activity retry policy.
 */
export const ETAG_REREADS = 5;

/**
 * A Dynamics row edited again while its QuickBooks side was being written (the write-back's ETag is stale): merge
 * the whole record again. Each pass costs a QBWC round trip, so three passes, after which the record fails as
 * `StaleEtag` and the next poll picks it up.
 */
export const ROW_MERGE_ATTEMPTS = 3;

/**
 * A QuickBooks Add whose answer was lost (the session died after QuickBooks applied it), or a name that turned out to
 * be taken: look for the record, then add again. Each pass is a QBWC round trip; a third loss in a row means the
 * Web Connector is failing, which the record reports instead of waiting on.
 */
export const ADD_ATTEMPTS = 3;

/**
 * A sales order that changed between the read its invoice was built from and the last look right before the Add is
 * queued: build the invoice again from the order as it stands. Someone still editing is waited out first (the quiet
 * period), so five rebuilds only run out on an order a script rewrites in a loop; it then fails retryably and the
 * next poll comes back to it.
 */
export const ORDER_REBUILDS = 5;

/**
 * Quiet periods an order still being edited is waited out before the flow gives up on it for now (it fails
 * retryably and the next poll comes back to it): with the default 30 s, ten minutes of steady editing.
 */
export const ORDER_QUIET_WAITS = 20;

/**
 * A QuickBooks record run carried a version older than the one its row's sync base was agreed at (a Dynamics →
 * QuickBooks run wrote a newer one meanwhile): read the record again instead of merging the old values. A fresh read
 * is superseded again only if such a write lands between the read and the merge once more; after three the record as
 * last read is merged, as runs did before versions were kept, rather than failing a record QuickBooks holds fine.
 */
export const SUPERSEDED_REREADS = 3;
