import { expect } from "vitest";
import type { ConversationResource } from "../../src/conversations/schemas";
import type { MessageResource } from "../../src/messages/schemas";
import { api, signUp } from "./http";
import { login } from "./oauth";

export const json = <T>(res: Response) => res.json() as Promise<T>;

/** A signed-up user (with its names) logged in with every scope. */
export async function member() {
  const user = await signUp();
  return { ...(await login({ user })), user };
}

/** Starts a conversation as `who` and expects 201. */
export async function start(who: { token: string }, participants: number[], extra: Record<string, unknown> = {}): Promise<ConversationResource> {
  const res = await api("/api/conversations/", { method: "POST", token: who.token, json: { participants, ...extra } });
  expect(res.status).toBe(201);
  return json<ConversationResource>(res);
}

/** Sends a message as `who` and expects 201. */
export async function send(who: { token: string }, conversationId: number, body: string): Promise<MessageResource> {
  const res = await api(`/api/conversations/${conversationId}/messages/`, { method: "POST", token: who.token, json: { message_body: body } });
  expect(res.status).toBe(201);
  return json<MessageResource>(res);
}

/** A message as a chat's `last_message` shows it (a ChatMessage): without what changes apart from its row's copy. */
export function asChatMessage(m: MessageResource) {
  const { mentions: _m, reply_to: _r, reply_count: _c, reactions: _x, pinned_at: _p, pinned_by: _b, attachments: _a, expires_at: _e, deleted_by: _d, ...chat } = m;
  return chat;
}
