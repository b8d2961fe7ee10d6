// What a push notification says, built by the conversation's room once a flush is recorded.
import type { PushJob } from "../deliveries/jobs";
import type { Sender, StoredMessage } from "../messages/store";
import type { PushTarget } from "./targets";

/** The payload the service worker shows (web/src/sw.ts); `urgent` sets the Urgency header, not shown. */
export type Notification = { title: string; body: string; tag: string; conversation_id: number; seq: number; url: string; urgent: boolean };

const PREVIEW_LENGTH = 140;

const nameOf = (s: Sender) => `${s.firstName} ${s.lastName}`.trim() || "Someone";

/** The body as text: mentions as @names (`names` of those known), a file-only message by its first file. */
function preview(m: StoredMessage, names: ReadonlyMap<number, Sender>): string {
  const text = m.body.replace(/<@(\d+)>/g, (_, id: string) => `@${names.get(Number(id))?.firstName || "someone"}`).trim();
  if (!text && m.attachments?.length) return `📎 ${m.attachments[0]!.name}`;
  const chars = [...text];
  return chars.length > PREVIEW_LENGTH ? `${chars.slice(0, PREVIEW_LENGTH - 1).join("")}…` : text;
}

/**
 * One notification per subscription for a flush: about the newest message someone else (not blocked) sent, or when the
 * recipient muted the conversation, the newest that mentions them (none: no notification).
 */
export function notificationJobs(
  targets: PushTarget[],
  messages: StoredMessage[],
  members: number,
  names: ReadonlyMap<number, Sender>,
  blockedBy: (userId: number) => ReadonlySet<number>,
  now = new Date(),
): PushJob[] {
  return targets.flatMap((t): PushJob[] => {
    // Nobody is notified of their own messages, nor of those of someone they blocked.
    const theirs = messages.filter((m) => m.senderId !== t.userId && !blockedBy(t.userId).has(m.senderId));
    const mentioning = theirs.filter((m) => m.mentions?.includes(t.userId));
    const muted = t.mutedUntil !== null && t.mutedUntil > now;
    const m = muted ? mentioning.at(-1) : theirs.at(-1);
    if (!m) return [];
    const notification: Notification = {
      title: t.title ?? nameOf(m.sender),
      body: t.previews ? `${nameOf(m.sender)}: ${preview(m, names)}` : "New message",
      tag: `conversation-${m.conversationId}`,
      conversation_id: m.conversationId,
      seq: m.seq,
      url: `/app/c/${m.conversationId}`,
      urgent: members === 2 || mentioning.includes(m),
    };
    return [{ kind: "push", subscription: t.subscriptionId, notification, first_at: now.getTime() }];
  });
}
