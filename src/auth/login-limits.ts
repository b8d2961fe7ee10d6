import { eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { loginFailures } from "../db/schema";

export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const LOGIN_FAILURES_PER_EMAIL = 10;
export const LOGIN_FAILURES_PER_IP = 100;

const keys = (email: string, ip: string) => [
  { key: `email:${email.toLowerCase()}`, limit: LOGIN_FAILURES_PER_EMAIL },
  { key: `ip:${ip}`, limit: LOGIN_FAILURES_PER_IP },
];

/** True when this email or this address has failed too often in the current window. */
export async function loginLimited(db: Database, email: string, ip: string): Promise<boolean> {
  const now = Date.now();
  for (const { key, limit } of keys(email, ip)) {
    const row = await db.select().from(loginFailures).where(eq(loginFailures.key, key)).get();
    if (row && row.windowEndsAt.getTime() > now && row.count >= limit) return true;
  }
  return false;
}

/** Counts one failed login against the email and the address (one atomic upsert each). */
export async function recordLoginFailure(db: Database, email: string, ip: string): Promise<void> {
  const now = Date.now();
  const windowEnds = new Date(now + LOGIN_WINDOW_SECONDS * 1000);
  await db.batch(
    keys(email, ip).map(({ key }) =>
      db
        .insert(loginFailures)
        .values({ key, count: 1, windowEndsAt: windowEnds })
        .onConflictDoUpdate({
          target: loginFailures.key,
          set: {
            count: sql`CASE WHEN ${loginFailures.windowEndsAt} > ${now} THEN ${loginFailures.count} + 1 ELSE 1 END`,
            windowEndsAt: sql`CASE WHEN ${loginFailures.windowEndsAt} > ${now} THEN ${loginFailures.windowEndsAt} ELSE ${windowEnds.getTime()} END`,
          },
        }),
    ) as [any, ...any[]],
  );
}
