import { hashSecret, randomToken } from "../auth/secrets";
import type { SocketIdentity } from "./sockets";

const TICKET_SECONDS = 30;

type Stored = { identity: SocketIdentity; expiresAt: number };

/** Issues a one-time ticket in the room's storage (only its hash is kept as the key). */
export async function issueTicket(storage: DurableObjectStorage, identity: SocketIdentity): Promise<{ ticket: string; expiresAt: number }> {
  const ticket = randomToken();
  const expiresAt = Date.now() + TICKET_SECONDS * 1000;
  await storage.put(`ticket:${hashSecret(ticket)}`, { identity, expiresAt } satisfies Stored);
  return { ticket, expiresAt };
}

/** Spends a ticket: unknown, used and expired tickets all give null. */
export async function redeemTicket(storage: DurableObjectStorage, ticket: string): Promise<SocketIdentity | null> {
  const key = `ticket:${hashSecret(ticket)}`;
  const found = await storage.get<Stored>(key);
  if (!found) return null;
  await storage.delete(key);
  return found.expiresAt > Date.now() ? found.identity : null;
}
