/** The Durable Object stub of a user's hub: one per user, serving their streams. */
export function hub(env: Cloudflare.Env, userId: number) {
  return env.USER_HUB.getByName(`user:${userId}`);
}
