import { and, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { oauthGrants, webhookEndpoints } from "../db/schema";
import type { WebhookEventType } from "./events";

/**
 * The statement choosing the endpoints an event of a conversation goes to: enabled, subscribed to `type`,
 * listing the conversation (or none), and owned by a client that one of `audience` (the conversation's
 * members when it happened) granted read:messages in a grant still standing. Run in a flush's own batch.
 */
export function webhookTargets(db: Database, conversationId: number, audience: number[], type: WebhookEventType) {
  return db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        isNull(webhookEndpoints.disabledAt),
        sql`EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.events}) WHERE value = ${type})`,
        sql`(${webhookEndpoints.conversations} IS NULL OR EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.conversations}) WHERE value = ${conversationId}))`,
        sql`EXISTS (SELECT 1 FROM ${oauthGrants} g WHERE g.client_id = ${webhookEndpoints.clientId} AND g.revoked_at IS NULL
          AND instr(' ' || g.scopes || ' ', ' read:messages ') > 0 AND g.user_id IN (SELECT value FROM json_each(${JSON.stringify(audience)})))`,
      ),
    );
}
