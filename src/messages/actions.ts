// What the message routes ask of a conversation: writes go to its room (the only writer), reads to D1.
import { and, eq, ne } from "drizzle-orm";
import { participants, users } from "../db/schema";
import type { DeferredToken } from "../http/auth-context";
import type { ReadSessions } from "../db/sessions";
import { policy } from "../limits/limits";
import { room } from "../realtime/room-stub";
import { settled, type Outcome } from "../realtime/outcome";
import type { Checked, TokenCheck } from "../realtime/conversation-room";
import { visibleMessage, type Reads } from "./listing";

/** Sends as the token's user; `created` is false for a retry of an earlier send. */
export async function sendMessage(
  env: Cloudflare.Env,
  reads: ReadSessions,
  conversationId: number,
  token: DeferredToken,
  send: { body: string; clientMessageId: string | null; replyTo: number | null; attachments: string[] },
) {
  return settled(reads, checked(token, await room(env, conversationId).send(conversationId, await tokenCheck(token), { ...send, limit: policy(env, "send") })));
}

/** Edits a message; only its sender may. */
export async function editMessage(env: Cloudflare.Env, reads: ReadSessions, conversationId: number, messageId: number, userId: number, body: string) {
  return settled(reads, await room(env, conversationId).edit(conversationId, userId, messageId, body));
}

/** Deletes a message as a tombstone (it keeps its seq); its sender or the conversation's owner may. */
export async function deleteMessage(env: Cloudflare.Env, reads: ReadSessions, conversationId: number, messageId: number, userId: number) {
  settled(reads, await room(env, conversationId).deleteMessage(conversationId, userId, messageId));
}

/** Adds or removes the caller's reaction through the room. */
export async function reactToMessage(env: Cloudflare.Env, reads: ReadSessions, conversationId: number, messageId: number, userId: number, emoji: string, add: boolean) {
  return settled(reads, await room(env, conversationId).react(conversationId, userId, messageId, emoji, add));
}

/** Pins or unpins a message through the room. */
export async function pinMessage(env: Cloudflare.Env, reads: ReadSessions, conversationId: number, messageId: number, userId: number, on: boolean) {
  return settled(reads, await room(env, conversationId).pin(conversationId, userId, messageId, on));
}

/** Moves the caller's watermarks forward through the room. */
export async function updateReceipts(env: Cloudflare.Env, reads: ReadSessions, conversationId: number, token: DeferredToken, deliveredUpTo = 0, readUpTo = 0) {
  return settled(reads, checked(token, await room(env, conversationId).receiptAs(conversationId, await tokenCheck(token), deliveredUpTo, readUpTo)));
}

/** What the room needs to check a request's token, once the Worker has screened it. */
async function tokenCheck(token: DeferredToken): Promise<TokenCheck> {
  await token.screen();
  return { hash: token.hash, scopes: token.scopes };
}

/** The outcome of a call whose token the room checked; the 401 or 403 the middleware would give, thrown, if it refused it. */
function checked<T>(token: DeferredToken, { access, outcome }: Checked<T>): Outcome<T> {
  token.check(access);
  if (!outcome) throw new Error("The room refused a token the Worker accepts.");
  return outcome;
}

/** Per other participant: whether and when the message was delivered and read. */
export async function messageReceipts(reads: Reads, conversationId: number, messageId: number, userId: number) {
  const { message } = await visibleMessage(reads, conversationId, messageId, userId);
  const rows = await reads.main
    .select({ participant: participants, firstName: users.firstName, lastName: users.lastName })
    .from(participants)
    .innerJoin(users, eq(users.id, participants.userId))
    .where(and(eq(participants.conversationId, conversationId), ne(participants.userId, message.senderId)));
  return rows.map(({ participant: p, firstName, lastName }) => {
    const delivered = p.deliveredSeq >= message.seq;
    const read = p.readSeq >= message.seq;
    return {
      user: { id: p.userId, first_name: firstName, last_name: lastName },
      delivered,
      delivered_at: delivered ? (p.deliveredAt?.toISOString() ?? null) : null,
      read,
      read_at: read ? (p.readAt?.toISOString() ?? null) : null,
    };
  });
}
