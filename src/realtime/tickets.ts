import { accessTokenLive } from "../auth/oauth/tokens";
import { hashSecret, randomToken } from "../auth/secrets";
import type { Database } from "../db/client";
import type { SocketIdentity } from "./connections";

const TICKET_SECONDS = 30;
const PREFIX = "ticket:";
/** Durable Object storage deletes at most this many keys per call. */
const DELETE_BATCH = 128;

/** A ticket as the room stores it, under `ticket:<SHA-256 of the ticket>`. */
type Stored = { identity: SocketIdentity; tokenHash: string; expiresAt: number };

/**
 * Issues a one-time ticket in the room's storage (only its hash is kept as the key). It remembers the
 * hash of the access token it was minted with, so revoking that token also voids the ticket.
 */
export async function issueTicket(storage: DurableObjectStorage, identity: SocketIdentity, tokenHash: string): Promise<{ ticket: string; expiresAt: number }> {
  const ticket = randomToken();
  const expiresAt = Date.now() + TICKET_SECONDS * 1000;
  await storage.put(`${PREFIX}${hashSecret(ticket)}`, { identity, tokenHash, expiresAt } satisfies Stored);
  return { ticket, expiresAt };
}

/**
 * Spends a ticket: unknown, used and expired tickets all give null, and so does one whose access token
 * has since been revoked or expired, or whose grant or user is gone (a ticket is worth no more than its token).
 */
export async function redeemTicket(storage: DurableObjectStorage, db: Database, ticket: string): Promise<SocketIdentity | null> {
  const key = `${PREFIX}${hashSecret(ticket)}`;
  const found = await storage.get<Stored>(key);
  if (!found) return null;
  await storage.delete(key);
  if (found.expiresAt <= Date.now()) return null;
  return (await accessTokenLive(db, found.tokenHash)) ? found.identity : null;
}

/** Deletes the tickets that expired unredeemed; returns the earliest expiry among the rest (Infinity if none). */
export async function sweepTickets(storage: DurableObjectStorage): Promise<number> {
  const now = Date.now();
  const tickets = [...(await storage.list<Stored>({ prefix: PREFIX }))];
  const expired = tickets.filter(([, t]) => t.expiresAt <= now).map(([key]) => key);
  for (let i = 0; i < expired.length; i += DELETE_BATCH) await storage.delete(expired.slice(i, i + DELETE_BATCH));
  return Math.min(...tickets.map(([, t]) => t.expiresAt).filter((at) => at > now));
}
