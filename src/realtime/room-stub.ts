/** The Durable Object stub of a conversation's room. Ids are AUTOINCREMENT, so a name is never reused. */
export function room(env: Cloudflare.Env, conversationId: number) {
  return env.CONVERSATION_ROOM.getByName(`conversation:${conversationId}`);
}
