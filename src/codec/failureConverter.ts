import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces name customers ("Dynamics account Dr. Jane Q. Public cannot be synced: …"), so
 * they travel as an encoded attribute, which the payload codec encrypts like any payload; the history keeps only
 * "Encoded failure". Loaded by path (`failureConverterPath`) because the workflow sandbox needs the same converter as
 * the worker, the gateway and every client.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
