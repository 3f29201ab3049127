import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isTimeZone } from '../qbxml/localTime';

/**
 * The company file's time zone: QuickBooks stamps and filters in the local time of the PC it runs on. Optional; the
 * host's own zone when absent.
 */
export const companyTimeZoneSchema = z
  .string()
  .refine(isTimeZone, 'must be an IANA time zone name such as America/Los_Angeles or Europe/London');

/**
 * The connections the processes serve: one per QuickBooks company file. `npm start` on the sandbox writes this file
 * (`<dataDir>/connections.json`); passwords appear only as scrypt hashes.
 */
export const connectionSchema = z.object({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_-]{0,39}$/,
      'lower-case letters, digits, "-" and "_" (at most 40), starting with a letter or digit',
    ),
  companyFileLabel: z.string().min(1),
  qbwc: z.object({
    userName: z.string().min(1),
    passwordHash: z.string().startsWith('scrypt$'),
    companyFilePath: z.string().default(''),
    timeZone: companyTimeZoneSchema.optional(),
  }),
  /** How Dataverse authenticates its webhook calls for this connection (the key is a secret: keep the file 0600). */
  webhook: z
    .object({
      kind: z.enum(['WebhookKey', 'HttpHeader', 'HttpQueryString']),
      key: z.string().min(16),
      headerName: z.string().optional(),
    })
    .optional(),
});

const connectionsFileSchema = z.object({ connections: z.array(connectionSchema).min(1) });

export type ConnectionConfig = z.infer<typeof connectionSchema>;

export function connectionsFilePath(dataDir: string): string {
  return join(dataDir, 'connections.json');
}

export function loadConnections(dataDir: string): ConnectionConfig[] {
  const path = connectionsFilePath(dataDir);
  const parsed = connectionsFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue?.path.join('.') ?? '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.connections;
}
