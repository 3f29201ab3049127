import { createHash, randomBytes } from 'node:crypto';

/**
 * QBWC tickets: 192 random bits bound to one connection. The connection name travels in the ticket so any gateway
 * replica can route it, but only the SHA-256 of the whole ticket is stored (in the companyFile workflow), so a forged
 * or altered ticket matches no session, and the history never holds a usable ticket.
 */

const SEPARATOR = '~';

export function mintTicket(connection: string): string {
  return `${connection}${SEPARATOR}${randomBytes(24).toString('base64url')}`;
}

export function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('hex');
}

export function connectionOfTicket(ticket: string): string | undefined {
  const at = ticket.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  const secret = ticket.slice(at + 1);
  if (!/^[A-Za-z0-9_-]{32}$/.test(secret)) return undefined;
  return ticket.slice(0, at);
}
