import type { Database } from "../db/client";

/**
 * Ends what a revocation leaves open (sockets opened with the grants). Auth knows nothing of sockets:
 * `createApp()` wires the realtime side in (`onRevoked`), so auth/ never imports realtime/.
 */
export type RevocationHook = (env: Cloudflare.Env, db: Database, userId: number, grantIds: string[] | null) => Promise<void>;

let hook: RevocationHook = async () => {};

/** Called once by createApp(). */
export function onRevoked(next: RevocationHook): void {
  hook = next;
}

/**
 * Tells the app a user's grants ended (`grantIds`), or the user was deactivated (null: everything of
 * theirs ends). An empty list is nothing to do.
 */
export async function revoked(env: Cloudflare.Env, db: Database, userId: number, grantIds: string[] | null): Promise<void> {
  if (grantIds?.length === 0) return;
  await hook(env, db, userId, grantIds);
}
