import { and, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { oauthGrants, webhookEndpoints } from "../db/schema";
import type { WebhookEventType } from "./events";
import { compile, jsonValues, qb } from "../db/compiled";

/**
 * The statement choosing the endpoints an event of a conversation goes to: enabled, subscribed to `type`,
 * listing the conversation (or none), and owned by a client that one of `audience` (the conversation's
 * members when it happened) granted read:messages in a grant still standing. Run in a flush's own batch.
 */
const targetsRead = compile(["conversationId", "audience", "type"], (p) =>
  qb
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(
      and(
        isNull(webhookEndpoints.disabledAt),
        sql`EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.events}) WHERE value = ${p.type})`,
        sql`(${webhookEndpoints.conversations} IS NULL OR EXISTS (SELECT 1 FROM json_each(${webhookEndpoints.conversations}) WHERE value = ${p.conversationId}))`,
        sql`EXISTS (SELECT 1 FROM ${oauthGrants} g WHERE g.client_id = ${webhookEndpoints.clientId} AND g.revoked_at IS NULL
          AND instr(' ' || g.scopes || ' ', ' read:messages ') > 0 AND g.user_id IN ${jsonValues(p.audience)})`,
      ),
    ),
);

export const webhookTargets = (db: Database, conversationId: number, audience: number[], type: WebhookEventType) =>
  targetsRead.bind(db, { conversationId, audience: JSON.stringify(audience), type });
