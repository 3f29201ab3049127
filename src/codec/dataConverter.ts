import { type DataConverter } from '@temporalio/common';
import { runtime } from '../config/runtime';
import { loadPayloadKeyRing, type PayloadKeyRing } from './keyRing';
import { EncryptedPayloadCodec } from './payloadCodec';

/** Loaded by path inside the workflow sandbox too: the worker's bundle of the workflows must be built with it. */
export const failureConverterPath = require.resolve('./failureConverter');

/**
 * The one data converter of the worker, the gateway and every client: payloads leave the process encrypted, and so do
 * failure messages and stack traces (see ./failureConverter).
 */
export function connectorDataConverter(keyRing: PayloadKeyRing): DataConverter {
  return {
    payloadCodecs: [new EncryptedPayloadCodec(keyRing)],
    failureConverterPath,
  };
}

/** Keys from QBSYNC_PAYLOAD_KEYS or `<dataDir>/keys/payload-keys.json`; fails with the fix when neither exists. */
export function loadConnectorDataConverter(dataDir: string = runtime.dataDir, env?: NodeJS.ProcessEnv): DataConverter {
  return connectorDataConverter(loadPayloadKeyRing(dataDir, env));
}
