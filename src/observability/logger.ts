import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Secrets are redacted by key name as a last line of defence; the first line is never
 * putting them in log fields at all.
 */
export const logger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.SERVICE_NAME ?? 'qb-d365-connector' },
  redact: {
    paths: [
      'password',
      'strPassword',
      'clientSecret',
      'secret',
      'token',
      'accessToken',
      'authorization',
      'ticket',
      '*.password',
      '*.ticket',
      '*.clientSecret',
      '*.secret',
      '*.accessToken',
      '*.authorization',
      'headers.authorization',
    ],
    censor: '[redacted]',
  },
});

export function childLogger(bindings: Record<string, string | number | undefined>): Logger {
  return logger.child(bindings);
}
