// Deleting an account. At once (one main-database batch, then its sockets close): the user row is anonymized
// and deactivated, its email and phone number free again, and every grant, token, session, reset link, push
// subscription, block, presence and unsent upload goes. Then the `hey-accounts` queue, a step per job: each
// conversation's room removes the user (as leaving does) and tombstones its messages there in chunks, so a
// million messages never exceed one request's limits.
import { and, eq, gt, or, sql } from "drizzle-orm";
import { union } from "drizzle-orm/sqlite-core";
import { removeUnsent } from "../attachments/removal";
import { revoked } from "../auth/revocation";
import type { Database } from "../db/client";
import { blocks, dataExports, oauthGrants, participants, passwordResets, presence, pushSubscriptions, sessions, users, type UserRow } from "../db/schema";
import { messages, reactions } from "../db/shard-schema";
import { shardAt, shardBindings } from "../db/shards";
import { room } from "../realtime/room-stub";
import { DELETED_NAME } from "../users/users";
import { removeExportParts } from "./export";
import { enqueueAccountJob, type EraseJob } from "./jobs";
import { batch } from "../db/compiled";

/** Conversations asked of their rooms per job. */
const ROOMS_PER_JOB = 25;

export async function deleteAccount(env: Cloudflare.Env, db: Database, user: UserRow): Promise<void> {
  const id = user.id;
  const exports = await db.select({ parts: dataExports.parts }).from(dataExports).where(eq(dataExports.userId, id));
  const now = new Date();
  await batch(db, [
    db
      .update(users)
      .set({
        // Not an email address, so no sign-up can take it, and unique as the index wants.
        email: `deleted:${id}`,
        passwordHash: "!",
        ...DELETED_NAME,
        phoneNumber: null,
        bio: null,
        isActive: false,
        isStaff: false,
        showPresence: false,
        deletedAt: now,
        updatedAt: now,
      })
      .where(eq(users.id, id)),
    // Codes and tokens go with their grants (foreign keys cascade).
    db.delete(oauthGrants).where(eq(oauthGrants.userId, id)),
    db.delete(sessions).where(eq(sessions.userId, id)),
    db.delete(passwordResets).where(eq(passwordResets.userId, id)),
    db.delete(pushSubscriptions).where(eq(pushSubscriptions.userId, id)),
    db.delete(blocks).where(or(eq(blocks.blockerId, id), eq(blocks.blockedId, id))),
    db.delete(presence).where(eq(presence.userId, id)),
    db.delete(dataExports).where(eq(dataExports.userId, id)),
  ]);
  await Promise.all([removeUnsent(db, env.ATTACHMENTS, id), removeExportParts(env.EXPORTS, exports.flatMap((e) => e.parts))]);
  await enqueueAccountJob(env.ACCOUNT_JOBS, { kind: "erase", user_id: id, stage: "members", shard: 0, after: 0 });
  // Sockets close and rooms forget the user's tokens once the tokens are gone (a room cannot read one again
  // and remember it). The deletion stands if a room misses this: the erasure removes the user from each room,
  // which closes their sockets there and forgets their tokens all the same.
  await revoked(env, db, id, null).catch((error: unknown) => console.error("closing a deleted account's sockets failed", error));
}

/** One step of a deleted account's erasure: up to ROOMS_PER_JOB conversations, then the next step is queued. */
export async function eraseStep(env: Cloudflare.Env, db: Database, job: EraseJob): Promise<void> {
  const ids = job.stage === "members" ? await memberOf(db, job.user_id, job.after) : await leftBehindIn(env, job.shard, job.user_id, job.after);
  for (const conversationId of ids) {
    const outcome = await room(env, conversationId).forgetUser(conversationId, job.user_id);
    // A conversation deleted meanwhile has nothing left to erase; anything else is retried with the job.
    if (!outcome.ok && outcome.status !== 404) throw new Error(`conversation ${conversationId}: ${outcome.detail}`);
  }
  const next = nextStep(env, job, ids);
  if (next) await enqueueAccountJob(env.ACCOUNT_JOBS, next);
}

function nextStep(env: Cloudflare.Env, job: EraseJob, ids: number[]): EraseJob | null {
  if (ids.length === ROOMS_PER_JOB) return { ...job, after: ids.at(-1)! };
  if (job.stage === "members") return { ...job, stage: "messages", shard: 0, after: 0 };
  return job.shard + 1 < shardBindings(env).length ? { ...job, shard: job.shard + 1, after: 0 } : null;
}

async function memberOf(db: Database, userId: number, after: number): Promise<number[]> {
  const rows = await db
    .select({ id: participants.conversationId })
    .from(participants)
    .where(and(eq(participants.userId, userId), gt(participants.conversationId, after)))
    .orderBy(participants.conversationId)
    .limit(ROOMS_PER_JOB);
  return rows.map((r) => r.id);
}

/**
 * Conversations on a shard where the user still has live messages or reactions: ones they left before deleting
 * the account, which the members stage did not reach.
 */
async function leftBehindIn(env: Cloudflare.Env, shard: number, userId: number, after: number): Promise<number[]> {
  const { db } = shardAt(env, shard);
  const sent = db
    .select({ id: messages.conversationId })
    .from(messages)
    .where(and(eq(messages.senderId, userId), gt(messages.conversationId, after), eq(messages.deleted, false)));
  const reacted = db
    .select({ id: messages.conversationId })
    .from(reactions)
    .innerJoin(messages, eq(messages.id, reactions.messageId))
    .where(and(eq(reactions.userId, userId), gt(messages.conversationId, after)));
  const rows = await union(sent, reacted).orderBy(sql`1`).limit(ROOMS_PER_JOB);
  return rows.map((r) => r.id);
}
