// What a viewer sees of messages from people they blocked: a placeholder that keeps the seq (so a history
// stays gap-free) and says `blocked: true`, with nothing the sender said, sent or mentioned; a reply's quote
// of such a message loses its preview too. Applied last, to resources built for that viewer.
import type { ChatMessageResource, MessageResource } from "./schemas";

export function hideBlocked(m: MessageResource, blocked: ReadonlySet<number>): MessageResource {
  if (!blocked.size) return m;
  const reply_to = m.reply_to && blocked.has(m.reply_to.sender.id) ? { ...m.reply_to, preview: "" } : m.reply_to;
  if (!blocked.has(m.sender.id)) return reply_to === m.reply_to ? m : { ...m, reply_to };
  return { ...m, message_body: "", mentions: [], attachments: [], reactions: [], reply_to, blocked: true };
}

export function hideBlockedChat(m: ChatMessageResource, senderBlocked: boolean): ChatMessageResource {
  return senderBlocked ? { ...m, message_body: "", blocked: true } : m;
}

/** The viewer's blocked users as a set, from the token's context. */
export const blockedSet = (auth: { blocked: readonly number[] }): ReadonlySet<number> => new Set(auth.blocked);
