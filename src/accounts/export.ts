// Data exports: everything Hey holds about a user, as one JSON document built in the background by the
// `hey-accounts` queue, a part per job (the head, then each shard's messages and reactions, a chunk at a
// time), kept in R2 until it expires. The download (export-download.ts) streams the parts in order.
import { and, desc, eq, gt, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { attachments, blocks, conversations, dataExports, oauthClients, oauthGrants, participants, pushSubscriptions, users, type ExportPart } from "../db/schema";
import { messages, reactions } from "../db/shard-schema";
import { SHARD_SLOTS, shardAt, shardBindings } from "../db/shards";
import { toUserResource } from "../users/users";
import { documentLength } from "./export-download";
import { enqueueAccountJob, type ExportJob } from "./jobs";
import { batch } from "../db/compiled";

/** How long a finished export stays downloadable (and an unfinished one may take). */
export const EXPORT_DAYS = 7;
/** Messages or reactions per part (one shard query and one R2 object each). */
const PART_ROWS = 1000;

export type ExportRow = typeof dataExports.$inferSelect;

/** Starts an export of the user's data; the queue builds it. */
export async function startExport(env: Cloudflare.Env, db: Database, userId: number): Promise<ExportRow> {
  const now = new Date();
  const [row] = await db
    .insert(dataExports)
    .values({ id: crypto.randomUUID(), userId, status: "pending", parts: [], createdAt: now, expiresAt: new Date(now.getTime() + EXPORT_DAYS * 86_400_000) })
    .returning();
  await enqueueAccountJob(env.ACCOUNT_JOBS, { kind: "export", export_id: row!.id, user_id: userId, stage: "head", shard: 0, after: [0, 0] });
  return row!;
}

/** The user's newest export that has not expired, if any. */
export function latestExport(db: Database, userId: number): Promise<ExportRow | undefined> {
  return db
    .select()
    .from(dataExports)
    .where(and(eq(dataExports.userId, userId), gt(dataExports.expiresAt, new Date())))
    .orderBy(desc(dataExports.createdAt))
    .limit(1)
    .get();
}

/** Writes the job's part and queues the next one, or marks the export ready after the last. */
export async function exportStep(env: Cloudflare.Env, db: Database, job: ExportJob): Promise<void> {
  const row = await db.select({ id: dataExports.id }).from(dataExports).where(eq(dataExports.id, job.export_id)).get();
  if (!row) return; // The account was deleted, or the export expired, meanwhile.
  const key = `${job.export_id}/${job.stage}-${job.shard}-${job.after.join("-")}`;
  let next: ExportJob | null;
  let text: string;
  if (job.stage === "head") {
    text = await head(db, job.user_id);
    next = { ...job, stage: "messages", shard: 0, after: [0, 0] };
  } else {
    const rows = job.stage === "messages" ? await messagesOf(env, job) : await reactionsOf(env, job);
    text = rows.items.map((item) => JSON.stringify(item)).join(",");
    next =
      rows.items.length === PART_ROWS
        ? { ...job, after: rows.cursor }
        : job.shard + 1 < shardBindings(env).length
          ? { ...job, shard: job.shard + 1, after: [0, 0] }
          : job.stage === "messages"
            ? { ...job, stage: "reactions", shard: 0, after: [0, 0] }
            : null;
  }
  if (text) await addPart(env.EXPORTS, db, job.export_id, { key, section: job.stage, size: new TextEncoder().encode(text).byteLength }, text);
  if (next) return enqueueAccountJob(env.ACCOUNT_JOBS, next);
  const done = await db.select({ parts: dataExports.parts }).from(dataExports).where(eq(dataExports.id, job.export_id)).get();
  if (!done) return;
  const now = new Date();
  await db
    .update(dataExports)
    .set({ status: "ready", size: documentLength(done.parts), readyAt: now, expiresAt: new Date(now.getTime() + EXPORT_DAYS * 86_400_000) })
    .where(eq(dataExports.id, job.export_id));
}

/** Stores a part and lists it on the export once: a job run twice writes the same key and lists it once. */
async function addPart(bucket: R2Bucket, db: Database, exportId: string, part: ExportPart, text: string): Promise<void> {
  await bucket.put(part.key, text, { httpMetadata: { contentType: "application/json" } });
  await db
    .update(dataExports)
    .set({ parts: sql`json_insert(${dataExports.parts}, '$[#]', json(${JSON.stringify(part)}))` })
    .where(and(eq(dataExports.id, exportId), sql`NOT EXISTS (SELECT 1 FROM json_each(${dataExports.parts}) WHERE json_extract(value, '$.key') = ${part.key})`));
}

/** The document's opening: the profile, apps, conversations with the user's receipts, blocks, push subscriptions and files. */
async function head(db: Database, userId: number): Promise<string> {
  const [[user], grants, memberships, blocked, subscriptions, files] = await batch(db, [
    db.select().from(users).where(eq(users.id, userId)),
    db
      .select({ client_id: oauthGrants.clientId, client_name: oauthClients.name, scopes: oauthGrants.scopes, created_at: oauthGrants.createdAt, revoked_at: oauthGrants.revokedAt })
      .from(oauthGrants)
      .innerJoin(oauthClients, eq(oauthClients.id, oauthGrants.clientId))
      .where(eq(oauthGrants.userId, userId)),
    db
      .select({
        id: conversations.id,
        title: conversations.title,
        owner_id: conversations.ownerId,
        created_at: conversations.createdAt,
        joined_at: participants.joinedAt,
        delivered_seq: participants.deliveredSeq,
        delivered_at: participants.deliveredAt,
        read_seq: participants.readSeq,
        read_at: participants.readAt,
        muted_until: participants.mutedUntil,
      })
      .from(participants)
      .innerJoin(conversations, eq(conversations.id, participants.conversationId))
      .where(eq(participants.userId, userId)),
    db.select({ user_id: blocks.blockedId, created_at: blocks.createdAt }).from(blocks).where(eq(blocks.blockerId, userId)),
    db.select({ endpoint: pushSubscriptions.endpoint, created_at: pushSubscriptions.createdAt }).from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)),
    db
      .select({
        id: attachments.id,
        name: attachments.name,
        content_type: attachments.contentType,
        size: attachments.size,
        sha256: attachments.sha256,
        conversation_id: attachments.conversationId,
        message_id: attachments.messageId,
        created_at: attachments.createdAt,
      })
      .from(attachments)
      .where(eq(attachments.uploaderId, userId)),
  ]);
  const document = {
    format: "hey-export/1",
    exported_at: new Date().toISOString(),
    user: user ? toUserResource(user) : null,
    grants: grants.map((g) => ({ ...g, scopes: g.scopes.split(" ") })),
    conversations: memberships,
    blocks: blocked,
    push_subscriptions: subscriptions,
    attachments: files,
  };
  // Open: the download closes it after the messages and reactions.
  return JSON.stringify(document).slice(0, -1);
}

/** A chunk of the user's live messages on one shard, by conversation and seq; never a tombstone or an expired message. */
async function messagesOf(env: Cloudflare.Env, job: ExportJob) {
  const s = shardAt(env, job.shard);
  const [conversation, seq] = job.after;
  const rows = await s.db
    .select()
    .from(messages)
    .where(
      and(
        eq(messages.senderId, job.user_id),
        sql`(${messages.conversationId}, ${messages.seq}) > (${conversation}, ${seq})`,
        eq(messages.deleted, false),
        sql`(${messages.expiresAt} IS NULL OR ${messages.expiresAt} > ${Date.now()})`,
      ),
    )
    .orderBy(messages.conversationId, messages.seq)
    .limit(PART_ROWS);
  const apiId = (rowId: number) => rowId * SHARD_SLOTS + s.index;
  const items = rows.map((m) => ({
    id: apiId(m.id),
    conversation_id: m.conversationId,
    seq: m.seq,
    body: m.body,
    sent_at: m.sentAt.toISOString(),
    edited_at: m.editedAt?.toISOString() ?? null,
    reply_to: m.replyTo === null ? null : apiId(m.replyTo),
    mentions: m.mentions ?? [],
    attachments: (m.attachments ?? []).map((a) => ({ id: a.id, name: a.name, content_type: a.contentType, size: a.size })),
    expires_at: m.expiresAt?.toISOString() ?? null,
  }));
  const last = rows.at(-1);
  return { items, cursor: last ? ([last.conversationId, last.seq] as [number, number]) : job.after };
}

/** A chunk of the user's reactions on one shard, in the order they are stored. */
async function reactionsOf(env: Cloudflare.Env, job: ExportJob) {
  const s = shardAt(env, job.shard);
  const rows = await s.db
    .select({ rowid: sql<number>`${reactions}.rowid`, messageId: reactions.messageId, emoji: reactions.emoji, createdAt: reactions.createdAt, conversationId: messages.conversationId })
    .from(reactions)
    .innerJoin(messages, eq(messages.id, reactions.messageId))
    .where(and(eq(reactions.userId, job.user_id), gt(sql`${reactions}.rowid`, job.after[0])))
    .orderBy(sql`${reactions}.rowid`)
    .limit(PART_ROWS);
  const items = rows.map((r) => ({ message_id: r.messageId * SHARD_SLOTS + s.index, conversation_id: r.conversationId, emoji: r.emoji, created_at: r.createdAt.toISOString() }));
  const last = rows.at(-1);
  return { items, cursor: last ? ([last.rowid, 0] as [number, number]) : job.after };
}

/** Deletes parts from R2 (at most 1,000 keys a call). */
export async function removeExportParts(bucket: R2Bucket, parts: ExportPart[]): Promise<void> {
  for (let i = 0; i < parts.length; i += 1000) await bucket.delete(parts.slice(i, i + 1000).map((p) => p.key));
}

/** Expired exports, rows and parts (the cron's work). */
export async function removeExpiredExports(db: Database, bucket: R2Bucket, now = new Date()): Promise<void> {
  const gone = await db.delete(dataExports).where(lte(dataExports.expiresAt, now)).returning({ parts: dataExports.parts });
  await removeExportParts(bucket, gone.flatMap((g) => g.parts));
}
