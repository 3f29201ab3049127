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
