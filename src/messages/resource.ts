import type { MessageResource } from "./schemas";
import { statusOf, type StatusView } from "./status";
import type { StoredMessage } from "./store";

/** The REST message resource, with `status` as `view`'s viewer sees it. */
export function toMessageResource(m: StoredMessage, view: StatusView): MessageResource {
  return {
    id: m.id,
    conversation: m.conversationId,
    seq: m.seq,
    sender: { id: m.sender.id, first_name: m.sender.firstName, last_name: m.sender.lastName },
    message_body: m.body,
    sent_at: m.sentAt.toISOString(),
    edited_at: m.editedAt?.toISOString() ?? null,
    deleted: m.deleted,
    status: statusOf(view, m),
    client_message_id: m.clientMessageId,
  };
}
