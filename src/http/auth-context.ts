import type { Database } from "../db/client";
import { batch, type Bound, type Item, type Results } from "../db/compiled";
import type { UserRow } from "../db/schema";

/** Who a request acts for, as established by its access token. */
export type AuthContext = {
  userId: number;
  /**
   * The user's row, read in the same query as the token on every request: a withdrawn staff flag takes
   * effect at once, messages show fresh names, and /users/me costs no second round trip.
   */
  user: UserRow;
  grantId: string;
  /** SHA-256 of the access token, so what it opened (a socket ticket) can be checked against it later. */
  tokenHash: string;
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
  /** The users this user blocked: their messages show as placeholders (src/messages/blocked.ts). */
  blocked: readonly number[];
};

/**
 * A request's access token, checked by the handler's first call rather than before it
 * (`secured(scope, { deferred: true })`): one round trip fewer, which a client far from the primary feels.
 * A read checks it in its first main-database batch (batchAs), which runs on the primary, as every token
 * check does, so a revocation counts at once; a send has its conversation's room check it (the room
 * remembers the tokens it checked until a revocation reaches it, see src/realtime/checked-tokens.ts).
 */
export type DeferredToken = {
  /** The primary session the token's statement is bound to: the batch must run there. */
  db: Database;
  /** SHA-256 of the token: the batch's other statements name the viewer with it (viewerByToken). */
  hash: string;
  /** The token's statement, to run first in the batch. */
  statement: Bound<unknown>;
  /** The scopes the route needs. */
  scopes: readonly string[];
  /** Checks that statement's result as the middleware would: sets and returns `auth`, or throws the 401 or 403. */
  admit(result: unknown): AuthContext;
  /** The same for the identity someone else found behind the token (null: none). */
  check(access: AuthContext | null): AuthContext;
  /** Reads and checks the token now, as `check` does; for a request answered before the handler's first call. */
  verify(): Promise<AuthContext>;
  /**
   * Awaited before a conversation's room is handed the token: from an address that has presented too many
   * bad tokens lately (RATE_GUESS_*), reads and checks it first, so a made-up token never wakes a room.
   */
  screen(): Promise<void>;
};

/** Why a token does not let its holder do what needs `scopes`: none, or too little; null when it does. */
export type Refusal = { kind: "invalid" } | { kind: "scope"; missing: string } | { kind: "staff" } | null;

/** The one rule, for the bearer middleware and for a room checking a send's token. */
export function refusalOf(auth: AuthContext | null, scopes: readonly string[]): Refusal {
  if (!auth) return { kind: "invalid" };
  const missing = scopes.find((s) => !auth.scopes.includes(s));
  if (missing) return { kind: "scope", missing };
  if (scopes.includes("admin") && !auth.user.isStaff) return { kind: "staff" };
  return null;
}

/** Who reads: a user already authenticated, or a token checked in the read's own batch. */
export type Viewer = number | DeferredToken;

/**
 * One main-database batch read for `viewer`: `items` names the viewer by id, or, for a token still to
 * check, by the token's hash (viewerByToken); then the batch runs on the primary with the token's
 * statement first, and the token is checked before any result is used.
 */
export async function batchAs<const T extends readonly Item[]>(
  reads: Database,
  viewer: Viewer,
  items: (db: Database, who: { userId: number; hash: null } | { userId: null; hash: string }) => T,
): Promise<{ viewerId: number; results: Results<T> }> {
  if (typeof viewer === "number") return { viewerId: viewer, results: await batch(reads, items(reads, { userId: viewer, hash: null })) };
  const [token, ...results] = await batch(viewer.db, [viewer.statement, ...items(viewer.db, { userId: null, hash: viewer.hash })]);
  return { viewerId: viewer.admit(token).userId, results: results as Results<T> };
}
