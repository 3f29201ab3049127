import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { connectorDataConverter } from '../../src/codec/dataConverter';
import { PayloadKeyRing } from '../../src/codec/keyRing';
import { EncryptedPayloadCodec } from '../../src/codec/payloadCodec';

/**
 * Recorded workflow histories are kept encrypted like production ones, with a throwaway key that exists only to
 * make the fixtures look like what a worker really reads (no customer data in clear, even demo data).
 */
const FIXTURE_KEY_ID = 'history-fixtures';
const fixtureKeyRing = new PayloadKeyRing(FIXTURE_KEY_ID, [
  [FIXTURE_KEY_ID, createHash('sha256').update('qbsync throwaway key for recorded history fixtures').digest()],
]);

export const historyFixtureDataConverter = connectorDataConverter(fixtureKeyRing);

export const historiesDir = join(__dirname, '..', 'fixtures', 'histories');

/**
 * The throwaway payload key of the sandbox run whose history is histories/bricked/qbfile-east-c84e5ff.json
 * (shared/evidence; it protects only sandbox demo data).
 */
export const EVIDENCE_PAYLOAD_KEYS = 'pk-20261204T141954Z-82ea61:9xLYoEwQ+myoUvSKAmUn7BGuvJUSMRI+Kn9+EQDYgAg=';

function isPayload(value: unknown): value is Payload {
  const candidate = value as { metadata?: unknown; data?: unknown } | null;
  return (
    candidate !== null &&
    typeof candidate === 'object' &&
    candidate.data instanceof Uint8Array &&
    typeof candidate.metadata === 'object' &&
    candidate.metadata !== null
  );
}

function isPatchMarker(attributes: unknown): boolean {
  return (
    typeof attributes === 'object' &&
    attributes !== null &&
    (attributes as { markerName?: unknown }).markerName === 'core_patch'
  );
}

/**
 * Encrypts, in place, every payload of a history fetched from a server whose workers ran without the codec, as a
 * worker with the codec would have written it: search attributes stay plain (the server indexes them).
 */
async function encryptHistoryPayloads(value: unknown): Promise<void> {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  const codec = new EncryptedPayloadCodec(fixtureKeyRing);
  const entries = Array.isArray(value) ? value.entries() : Object.entries(value as Record<string, unknown>);
  for (const [key, child] of entries) {
    if (key === 'searchAttributes') continue;
    // Core writes the details of its own patch markers (`core_patch`) itself, past the codec, and reads them back on
    // replay to learn which patches a run has; encrypted, the patch is unknown to the replay and patched() answers
    // false, so the run replays down the old branch.
    if (key === 'markerRecordedEventAttributes' && isPatchMarker(child)) continue;
    if (isPayload(child)) {
      const [sealed] = await codec.encode([child]);
      (value as Record<string | number, unknown>)[key] = sealed;
    } else {
      await encryptHistoryPayloads(child);
    }
  }
}

/**
 * Writes `history` to histories/<name>.json, encrypted as a worker with the codec would have written it. Protobuf
 * binary, not Temporal's JSON form: the JSON converter trips over the second protobufjs copy in node_modules, and the
 * binary form is what the server itself stores. Returns the file written.
 */
export async function writeHistoryFixture(
  name: string,
  workflowId: string,
  history: temporal.api.history.v1.IHistory,
): Promise<string> {
  await encryptHistoryPayloads(history);
  const encoded = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('base64');
  const file = join(historiesDir, `${name.replace(/[^a-zA-Z0-9]+/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ workflowId, historyProtobufBase64: encoded }, null, 2)}\n`);
  return file;
}

/** The ids of the patches a run took: its `core_patch` markers, which stay in clear (see above). */
export function patchIdsOf(history: temporal.api.history.v1.IHistory): string[] {
  const ids: string[] = [];
  for (const event of history.events ?? []) {
    const marker = event.markerRecordedEventAttributes;
    if (!isPatchMarker(marker)) continue;
    const data = marker?.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) continue;
    const { id } = JSON.parse(Buffer.from(data).toString('utf8')) as { id?: unknown };
    if (typeof id === 'string') ids.push(id);
  }
  return ids;
}
