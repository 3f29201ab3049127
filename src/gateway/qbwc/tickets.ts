import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { type PayloadKeyRing } from '../../codec/keyRing';

/**
 * QBWC tickets: `<connection>~<issued, base36 seconds>~<128 random bits>~<MAC>`. The connection name travels in the
 * ticket so any gateway replica can route it; the MAC (HMAC-SHA256 under the deployment's ticket key) lets every
 * replica refuse a ticket no gateway minted before anything reaches Temporal. Only the SHA-256 of the whole ticket is
 * stored (in the companyFile workflow), so the history never holds a usable ticket, and the workflow decides whether a
 * genuine ticket is still the live session's.
 */
const SEPARATOR = '~';
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
const TICKET_SHAPE = /^([a-z0-9][a-z0-9_-]{0,39})~([0-9a-z]{1,10})~([A-Za-z0-9_-]{22})~([A-Za-z0-9_-]{22})$/;

/** A QBWC session lasts as long as the company file's queue takes; a day is far beyond any we have seen. */
const DEFAULT_TICKET_LIFETIME_MS = 24 * 60 * 60 * 1000;

export interface VerifiedTicket {
  connection: string;
  ticketHash: string;
}

export interface TicketAuthorityOptions {
  /** Tickets older than this are refused at the gateway (the workflow refuses superseded ones sooner). */
  lifetimeMs?: number;
  now?: () => number;
}

/**
 * Mints and checks tickets. Every gateway of a deployment must hold the same keys: they are derived from the payload
 * key ring (which every worker and gateway already shares), so there is no extra secret to distribute. The active key
 * mints; every key of the ring verifies, so a payload key rotation does not cut a running session off.
 */
export class TicketAuthority {
  private readonly lifetimeMs: number;
  private readonly now: () => number;
  private readonly verifyingKeys: readonly Buffer[];

  /** `activeKey` mints and verifies; `olderKeys` only verify. */
  constructor(
    private readonly activeKey: Buffer,
    olderKeys: readonly Buffer[] = [],
    options: TicketAuthorityOptions = {},
  ) {
    this.verifyingKeys = [activeKey, ...olderKeys];
    this.lifetimeMs = options.lifetimeMs ?? DEFAULT_TICKET_LIFETIME_MS;
    this.now = options.now ?? Date.now;
  }

  /** HKDF with its own label: the ticket key is unrelated to the encryption key it is derived from. */
  static fromPayloadKeyRing(ring: PayloadKeyRing, options: TicketAuthorityOptions = {}): TicketAuthority {
    const derive = (key: Buffer): Buffer =>
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'qbsync qbwc ticket mac v1', 32));
    const others = ring.keyIds.filter((id) => id !== ring.activeKeyId).map((id) => derive(ring.key(id)!));
    return new TicketAuthority(derive(ring.activeKey), others, options);
  }

  mint(connection: string): string {
    const issued = Math.floor(this.now() / 1000).toString(36);
    const body = `${connection}${SEPARATOR}${issued}${SEPARATOR}${randomBytes(NONCE_BYTES).toString('base64url')}`;
    return `${body}${SEPARATOR}${mac(this.activeKey, body).toString('base64url')}`;
  }

  /** The connection and stored hash of a ticket this deployment minted and that has not expired; else undefined. */
  verify(ticket: string): VerifiedTicket | undefined {
    const match = TICKET_SHAPE.exec(ticket);
    if (!match) return undefined;
    const [, connection, issued, , presented] = match as unknown as [string, string, string, string, string];
    const body = ticket.slice(0, ticket.length - presented.length - 1);
    const given = Buffer.from(presented, 'base64url');
    // The last of the 22 characters carries 4 bits no byte uses: only the spelling we minted is our ticket (another
    // spelling decodes to the same MAC but is a different ticket, with a different hash).
    if (given.toString('base64url') !== presented) return undefined;
    if (!this.verifyingKeys.some((key) => timingSafeEqual(mac(key, body), given))) return undefined;
    const age = this.now() - Number.parseInt(issued, 36) * 1000;
    // A ticket from the future (clock skew between replicas) is allowed a minute, never more.
    if (age > this.lifetimeMs || age < -60_000) return undefined;
    return { connection, ticketHash: hashTicket(ticket) };
  }
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body, 'utf8').digest().subarray(0, MAC_BYTES);
}

export function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('hex');
}
