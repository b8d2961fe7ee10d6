import { and, count, desc, eq, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { webhookAttempts, webhookEndpoints, type WebhookRow } from "../db/schema";
import { batch } from "../db/compiled";

/** What the attempts log keeps per endpoint. */
export const KEPT_ATTEMPTS = 100;

/** Who manages endpoints: staff (every client's), or one client (its own). */
export type WebhookOwner = { admin: true } | { clientId: string };

const owned = (owner: WebhookOwner) => ("clientId" in owner ? eq(webhookEndpoints.clientId, owner.clientId) : undefined);

export async function createEndpoint(db: Database, input: { clientId: string; url: string; events: string[]; conversations: number[] | null }): Promise<WebhookRow> {
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ id: `wh_${crypto.randomUUID().replaceAll("-", "")}`, ...input, createdAt: new Date() })
    .returning();
  return row!;
}

export function findEndpoint(db: Database, owner: WebhookOwner, id: string): Promise<WebhookRow | undefined> {
  return db.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.id, id), owned(owner))).get();
}

export async function listEndpoints(db: Database, owner: WebhookOwner, clientId: string | undefined, offset: number, limit: number) {
  const where = and(owned(owner), clientId ? eq(webhookEndpoints.clientId, clientId) : undefined);
  const [[total], rows] = await batch(db, [
    db.select({ n: count() }).from(webhookEndpoints).where(where),
    db.select().from(webhookEndpoints).where(where).orderBy(webhookEndpoints.createdAt, webhookEndpoints.id).limit(limit).offset(offset),
  ]);
  return { count: total?.n ?? 0, rows };
}

export async function updateEndpoint(db: Database, id: string, changes: Partial<Pick<WebhookRow, "url" | "events" | "conversations" | "disabledAt" | "disabledReason" | "failingSince">>) {
  const [row] = await db.update(webhookEndpoints).set(changes).where(eq(webhookEndpoints.id, id)).returning();
  return row;
}

/** A new secret version; the current one keeps signing until `until`. */
export async function rotateSecret(db: Database, endpoint: WebhookRow, until: Date): Promise<WebhookRow> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ secretVersion: sql`${webhookEndpoints.secretVersion} + 1`, previousVersion: endpoint.secretVersion, previousUntil: until })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return row!;
}

export async function deleteEndpoint(db: Database, id: string): Promise<void> {
  await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id));
}

/** The endpoint a job names, as delivery needs it (null once deleted). */
export function endpointById(db: Database, id: string): Promise<WebhookRow | undefined> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
}

const duration = (ms: number) => (ms >= 3_600_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 1000)} s`);

export type Attempt = { deliveryId: string; eventType: string; attempt: number; statusCode: number | null; error: string | null; latencyMs: number; at: Date };

/** When a failure disables its endpoint: failing since `since` (ms) or earlier; `reason` is what its owner reads. */
export type DisableRule = { since: number; reason: string };

/** The rule for an ordinary failure: every delivery has failed for the whole retry window. */
export const failedForWindow = (attempt: Attempt, windowMs: number): DisableRule => ({
  since: attempt.at.getTime() - windowMs,
  reason: `Every delivery failed for ${duration(windowMs)}; the last: ${attempt.error}`,
});

/**
 * Logs an attempt and its effect on the endpoint, in one batch: a success clears its failure record; a
 * failure starts one, and disables the endpoint by `disable`.
 */
export async function recordAttempt(db: Database, endpointId: string, attempt: Attempt, ok: boolean, disable: DisableRule): Promise<void> {
  const at = attempt.at.getTime();
  const since = sql`coalesce(${webhookEndpoints.failingSince}, ${at})`;
  const reason = disable.reason;
  await batch(db, [
    db.insert(webhookAttempts).values({ endpointId, ...attempt, attemptedAt: attempt.at }),
    db.delete(webhookAttempts).where(
      and(
        eq(webhookAttempts.endpointId, endpointId),
        lte(webhookAttempts.id, sql`(SELECT id FROM ${webhookAttempts} WHERE endpoint_id = ${endpointId} ORDER BY id DESC LIMIT 1 OFFSET ${KEPT_ATTEMPTS})`),
      ),
    ),
    ok
      ? db.update(webhookEndpoints).set({ failingSince: null }).where(eq(webhookEndpoints.id, endpointId))
      : db
          .update(webhookEndpoints)
          .set({
            failingSince: sql`${since}`,
            disabledAt: sql`CASE WHEN ${webhookEndpoints.disabledAt} IS NULL AND ${since} <= ${disable.since} THEN ${at} ELSE ${webhookEndpoints.disabledAt} END`,
            disabledReason: sql`CASE WHEN ${webhookEndpoints.disabledAt} IS NULL AND ${since} <= ${disable.since} THEN ${reason} ELSE ${webhookEndpoints.disabledReason} END`,
          })
          .where(eq(webhookEndpoints.id, endpointId)),
  ]);
}

export function listAttempts(db: Database, endpointId: string) {
  return db.select().from(webhookAttempts).where(eq(webhookAttempts.endpointId, endpointId)).orderBy(desc(webhookAttempts.id)).limit(KEPT_ATTEMPTS);
}
