import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { participants } from "../db/schema";
import { CLOSE } from "./protocol";
import { hub } from "./hub-stub";
import { room } from "./room-stub";

/**
 * Closes a user's streams and their sockets in every room they belong to: all of them (deactivation: 4003), or those of
 * the given grants (revocation, password change: 4001, re-authenticate).
 */
export async function disconnectEverywhere(env: Cloudflare.Env, db: Database, userId: number, grantIds: string[] | null): Promise<void> {
  const rows = await db.select({ id: participants.conversationId }).from(participants).where(eq(participants.userId, userId));
  const target = grantIds
    ? { grantIds, code: CLOSE.reauthenticate, reason: "The token was revoked." }
    : { userId, code: CLOSE.gone, reason: "The account was deactivated." };
  await Promise.all([hub(env, userId).disconnect(target), ...rows.map((r) => room(env, r.id).disconnect(target))]);
}
