import { toAttachmentResource } from "../attachments/resource";
import type { ChatMessageResource, MessageResource } from "./schemas";
import { statusOf, type StatusView } from "./status";
import type { Sender, StoredMessage } from "./store";

const senderOf = (s: Sender) => ({ id: s.id, first_name: s.firstName, last_name: s.lastName });

/** What every view of a message shows, from the copy the chat list keeps too. */
export function toChatMessageResource(m: Pick<StoredMessage, "id" | "conversationId" | "seq" | "sender" | "senderId" | "body" | "sentAt" | "editedAt" | "deleted" | "clientMessageId">, view: StatusView): ChatMessageResource {
  return {
    id: m.id,
    conversation: m.conversationId,
    seq: m.seq,
    sender: senderOf(m.sender),
    message_body: m.body,
    sent_at: m.sentAt.toISOString(),
    edited_at: m.editedAt?.toISOString() ?? null,
    deleted: m.deleted,
    status: statusOf(view, m),
    client_message_id: m.clientMessageId,
    blocked: false,
  };
}

/** The REST message resource, with `status` and each reaction's `me` as `view`'s viewer sees them. */
export function toMessageResource(m: StoredMessage, view: StatusView): MessageResource {
  const parent = m.replyTo;
  return {
    ...toChatMessageResource(m, view),
    mentions: m.mentions ?? [],
    reply_to: parent && { id: parent.id, seq: parent.seq, sender: senderOf(m.replySender!), preview: parent.deleted ? "" : parent.preview, deleted: parent.deleted },
    reply_count: m.replyCount,
    reactions: m.reactions.map((r) => ({ emoji: r.emoji, count: r.users.length, me: r.users.includes(view.viewerId) })),
    pinned_at: m.pinnedAt?.toISOString() ?? null,
    pinned_by: m.pinnedBy,
    attachments: (m.attachments ?? []).map(toAttachmentResource),
    expires_at: m.deleted ? null : (m.expiresAt?.toISOString() ?? null),
    deleted_by: m.deleted ? (m.deletedBy ?? "sender") : null,
  };
}
