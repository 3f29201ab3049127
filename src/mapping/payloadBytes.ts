/**
 * How large a value is as a Temporal payload: the JSON payload converter writes it as UTF-8, and the server refuses a
 * payload above 2 MB (`limit.blobSize.error`). Pure (no Buffer or TextEncoder in the workflow sandbox).
 */

/** UTF-8 bytes of `text`, as the JSON payload converter writes it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    // A surrogate pair is one 4-byte character: 2 for each half.
    else if (code >= 0xd800 && code <= 0xdfff) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}

/**
 * What a poll cycle continuing as new mid-read may carry of the facts it records at the read's end (deletions, deleted
 * invoices, invoices of sales orders) before it records them instead: a quarter of Temporal's 2 MB, beside the cursors,
 * the own writes and the choices the same payload carries, and Temporal's own warning at 512 KB.
 */
export const CARRIED_FACTS_BYTES_AT_MOST = 500_000;

/** UTF-8 bytes of `lists` as the JSON payload converter writes them. */
export function carriedFactsBytes(lists: readonly (readonly unknown[])[]): number {
  return utf8Bytes(JSON.stringify(lists));
}
