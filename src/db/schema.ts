import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`);

export const users = sqliteTable(
  "users",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    // Stored lower-case so the unique index compares case-insensitively.
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    firstName: text("first_name").notNull().default(""),
    lastName: text("last_name").notNull().default(""),
    // Not unique: numbers are not verified, so a unique index would let anyone claim someone else's
    // number and learn, from the 409, whose it is.
    phoneNumber: text("phone_number"),
    bio: text("bio"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    isStaff: integer("is_staff", { mode: "boolean" }).notNull().default(false),
    // Whether people who share a conversation see when this user is online (src/presence).
    showPresence: integer("show_presence", { mode: "boolean" }).notNull().default(true),
    // Whether push notifications show the sender and the text, or only "New message" (src/push).
    notificationPreviews: integer("notification_previews", { mode: "boolean" }).notNull().default(true),
    // When the user deleted their account (src/accounts/deletion.ts): the row stays, anonymized, so their
    // messages' tombstones still name a sender ("Deleted user").
    deletedAt: integer("deleted_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull().default(sql`(CAST(unixepoch('subsec') * 1000 AS INTEGER))`),
  },
  (t) => [uniqueIndex("users_email_unique").on(t.email)],
);

export type UserRow = typeof users.$inferSelect;

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });

/** OAuth clients. `secret_hash` is SHA-256 of the secret; public clients have none. */
export const oauthClients = sqliteTable("oauth_clients", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  redirectUris: text("redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
  confidential: integer("confidential", { mode: "boolean" }).notNull(),
  secretHash: text("secret_hash"),
  scopes: text("scopes").notNull(),
  dynamic: integer("dynamic", { mode: "boolean" }).notNull().default(false),
  /** RFC 7662 §4: may introspect tokens issued to other clients (set only by staff). */
  introspect: integer("introspect", { mode: "boolean" }).notNull().default(false),
  createdAt: createdAt(),
});

/**
 * One authorization: the code and every token issued from it, refreshed ones included, carry its id,
 * so revoking the grant (code reuse, refresh reuse, revocation) kills all of them in one write.
 */
export const oauthGrants = sqliteTable(
  "oauth_grants",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull().references(() => oauthClients.id, { onDelete: "cascade" }),
    scopes: text("scopes").notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at"),
  },
  (t) => [index("oauth_grants_user").on(t.userId)],
);

/** Authorization codes, stored by SHA-256 hash; single use (`used_at`). */
export const oauthCodes = sqliteTable("oauth_codes", {
  hash: text("hash").primaryKey(),
  grantId: text("grant_id").notNull().references(() => oauthGrants.id, { onDelete: "cascade" }),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  expiresAt: timestamp("expires_at").notNull(),
  usedAt: timestamp("used_at"),
});

/** Access and refresh tokens, stored by SHA-256 hash. A refresh token is spent once (`rotated_at`). */
export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    hash: text("hash").primaryKey(),
    kind: text("kind", { enum: ["access", "refresh"] }).notNull(),
    grantId: text("grant_id").notNull().references(() => oauthGrants.id, { onDelete: "cascade" }),
    scopes: text("scopes").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at").notNull(),
    rotatedAt: timestamp("rotated_at"),
    revokedAt: timestamp("revoked_at"),
    /**
     * On a rotated refresh token: the answer its rotation gave (the new pair), AES-GCM sealed under a key
     * derived from this token, which is never stored, so a client whose answer was lost can get it again
     * (src/auth/oauth/tokens.ts). Cleared by the grant's next rotation, or by reuse.
     */
    sealedSuccessor: text("sealed_successor"),
  },
  (t) => [index("oauth_tokens_grant").on(t.grantId)],
);

/**
 * One-time password reset links that staff issue (src/auth/password-reset.ts), stored by SHA-256 hash of the
 * link's secret: single use (`used_at`), short-lived.
 */
export const passwordResets = sqliteTable(
  "password_resets",
  {
    hash: text("hash").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    issuedBy: integer("issued_by").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
  },
  (t) => [index("password_resets_user").on(t.userId)],
);

/**
 * Who blocked whom (src/users/blocks.ts): a blocked user can't start a conversation with or add the blocker,
 * and the blocker sees their messages in shared groups only as `blocked: true` placeholders.
 */
export const blocks = sqliteTable(
  "blocks",
  {
    blockerId: integer("blocker_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    blockedId: integer("blocked_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] }), index("blocks_blocked").on(t.blockedId)],
);

/** Browser sign-in sessions for the authorize pages, stored by SHA-256 hash of the cookie value. */
export const sessions = sqliteTable(
  "sessions",
  {
    hash: text("hash").primaryKey(),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at").notNull(),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

/** Conversations carry summary columns so the chat list never reads messages. */
export const conversations = sqliteTable("conversations", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  title: text("title"),
  ownerId: integer("owner_id").notNull().references(() => users.id),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at").notNull(),
  lastSeq: integer("last_seq").notNull().default(0),
  lastMessageAt: timestamp("last_message_at"),
  lastActivityAt: timestamp("last_activity_at").notNull(),
  /** The message shard (`MESSAGES_<n>`) holding its messages: chosen at creation, never changed. */
  shard: integer("shard").notNull().default(0),
  // A copy of the last message (seq = last_seq), written by the room after each flush, so the chat list
  // never reads a shard. Its sender's name is joined from users.
  lastMessageId: integer("last_message_id"),
  lastSenderId: integer("last_sender_id"),
  lastBody: text("last_body"),
  lastClientMessageId: text("last_client_message_id"),
  lastEditedAt: timestamp("last_edited_at"),
  lastDeleted: integer("last_deleted", { mode: "boolean" }).notNull().default(false),
  /** Disappearing messages: those sent while it is set expire this long after they were sent (null: off). */
  messageTtlSeconds: integer("message_ttl_seconds"),
});

/** Membership, with per-recipient status as watermarks: messages with seq ≤ read_seq are read. */
export const participants = sqliteTable(
  "participants",
  {
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    joinedAt: timestamp("joined_at").notNull(),
    deliveredSeq: integer("delivered_seq").notNull().default(0),
    deliveredAt: timestamp("delivered_at"),
    readSeq: integer("read_seq").notNull().default(0),
    readAt: timestamp("read_at"),
    /** Until then this participant gets push notifications from the conversation only when mentioned. */
    mutedUntil: timestamp("muted_until"),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.userId] }), index("participants_user").on(t.userId, t.conversationId)],
);

/**
 * Who a message mentions, by seq, for the chat list's count of unread mentions (messages are in the
 * shards, which the chat list never reads): written by the conversation's room with each flush.
 */
export const mentions = sqliteTable(
  "mentions",
  {
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.conversationId, t.seq] }), index("mentions_conversation").on(t.conversationId, t.seq)],
);

/**
 * Uploaded files (the bytes are in R2 under `id`). `message_id` is null until a send attaches the upload;
 * uploads left unattached are deleted after an hour. No foreign keys: the conversation's purge and the
 * cleanup delete the objects with the rows, so rows must not vanish by cascade first.
 */
export const attachments = sqliteTable(
  "attachments",
  {
    id: text("id").primaryKey(),
    uploaderId: integer("uploader_id").notNull(),
    conversationId: integer("conversation_id").notNull(),
    messageId: integer("message_id"),
    name: text("name").notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    sha256: text("sha256").notNull(),
    width: integer("width"),
    height: integer("height"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [
    index("attachments_uploader").on(t.uploaderId, t.size),
    index("attachments_conversation").on(t.conversationId),
    index("attachments_message").on(t.messageId),
    index("attachments_unattached").on(t.createdAt).where(sql`${t.messageId} IS NULL`),
  ],
);

export type AttachmentRow = typeof attachments.$inferSelect;

/** Keys the Worker makes for itself on first use (the one for signed attachment links): nothing to configure. */
export const signingKeys = sqliteTable("signing_keys", {
  name: text("name").primaryKey(),
  key: text("key").notNull(),
});

/**
 * How many conversations each message shard holds, so a new conversation goes to the least full open
 * one without counting rows. A shard's row appears with its first conversation.
 */
export const messageShards = sqliteTable("message_shards", {
  shard: integer("shard").primaryKey(),
  conversations: integer("conversations").notNull().default(0),
});

/**
 * Who has a live user stream, written only by the user's hub. Rooms read it in a flush's own batch, so a
 * user with no stream open costs nothing per message; `last_seen_at` is the latest going on- or offline.
 */
export const presence = sqliteTable("presence", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  online: integer("online", { mode: "boolean" }).notNull(),
  lastSeenAt: timestamp("last_seen_at").notNull(),
});

/**
 * Webhook endpoints, each owned by an OAuth client (src/webhooks). No secret is stored: an endpoint's
 * signing secret is derived from a server key, its id and `secret_version`; a rotation keeps the previous
 * version signing beside it until `previous_until`.
 */
export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    clientId: text("client_id")
      .notNull()
      .references(() => oauthClients.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    /** Only these conversations, or all that the client's grants cover (null). */
    conversations: text("conversations", { mode: "json" }).$type<number[] | null>(),
    secretVersion: integer("secret_version").notNull().default(1),
    previousVersion: integer("previous_version"),
    previousUntil: timestamp("previous_until"),
    /** The first failure since the last success; an endpoint failing for the whole retry window is disabled. */
    failingSince: timestamp("failing_since"),
    disabledAt: timestamp("disabled_at"),
    disabledReason: text("disabled_reason"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [index("webhook_endpoints_client").on(t.clientId)],
);

export type WebhookRow = typeof webhookEndpoints.$inferSelect;

/** Each delivery attempt to an endpoint, kept for its owner to see (the newest 100 per endpoint). */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    deliveryId: text("delivery_id").notNull(),
    eventType: text("event_type").notNull(),
    attempt: integer("attempt").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    latencyMs: integer("latency_ms").notNull(),
    attemptedAt: timestamp("attempted_at").notNull(),
  },
  (t) => [index("webhook_attempts_endpoint").on(t.endpointId, t.id)],
);

/**
 * Browsers' Web Push subscriptions (src/push). `p256dh` and `auth` are the browser's keys for encrypting
 * to it: needed as they are, so stored as they are (they let one encrypt to the browser, not read from it).
 */
export const pushSubscriptions = sqliteTable(
  "push_subscriptions",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull(),
    p256dh: text("p256dh").notNull(),
    auth: text("auth").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [uniqueIndex("push_subscriptions_endpoint").on(t.endpoint), index("push_subscriptions_user").on(t.userId)],
);

/**
 * Reports of messages by participants, for staff to review (src/moderation). The message's text and sender
 * are copied when reported, so staff see what was reported even if it is edited or deleted since.
 */
export const reports = sqliteTable(
  "reports",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: integer("conversation_id").notNull(),
    messageId: integer("message_id").notNull(),
    seq: integer("seq").notNull(),
    senderId: integer("sender_id").notNull(),
    body: text("body").notNull(),
    reporterId: integer("reporter_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    reason: text("reason").notNull(),
    status: text("status", { enum: ["open", "dismissed", "message_deleted", "sender_deactivated"] }).notNull().default("open"),
    createdAt: timestamp("created_at").notNull(),
    resolvedAt: timestamp("resolved_at"),
    resolvedBy: integer("resolved_by"),
  },
  (t) => [uniqueIndex("reports_reporter_message").on(t.reporterId, t.messageId), index("reports_status").on(t.status, t.id)],
);

export type ReportRow = typeof reports.$inferSelect;

/** What staff did about reports: who, when, what, to which report. Never updated or deleted. */
export const moderationActions = sqliteTable("moderation_actions", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  reportId: integer("report_id").notNull(),
  actorId: integer("actor_id").notNull(),
  action: text("action", { enum: ["dismiss", "delete_message", "deactivate_sender"] }).notNull(),
  note: text("note"),
  createdAt: timestamp("created_at").notNull(),
});

export type ConversationRow = typeof conversations.$inferSelect;
export type ParticipantRow = typeof participants.$inferSelect;
export type ClientRow = typeof oauthClients.$inferSelect;

/** A part of a data export in R2 (src/accounts/export.ts): the document's head, or a chunk of messages or reactions. */
export type ExportPart = { key: string; section: "head" | "messages" | "reactions"; size: number };

/** Data exports (GET /api/users/me/export/): built in the background into R2, kept until `expires_at`. */
export const dataExports = sqliteTable(
  "data_exports",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    status: text("status", { enum: ["pending", "ready"] }).notNull(),
    parts: text("parts", { mode: "json" }).$type<ExportPart[]>().notNull(),
    size: integer("size"),
    createdAt: timestamp("created_at").notNull(),
    readyAt: timestamp("ready_at"),
    expiresAt: timestamp("expires_at").notNull(),
  },
  (t) => [index("data_exports_user").on(t.userId, t.createdAt), index("data_exports_expiry").on(t.expiresAt)],
);
