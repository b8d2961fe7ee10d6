import { and, eq, gt, isNotNull, isNull, ne, sql } from "drizzle-orm";
import type { Config } from "../../config";
import type { Database } from "../../db/client";
import { batch, compile, first, qb, renamed } from "../../db/compiled";
import { blocks, oauthGrants, oauthTokens, users } from "../../db/schema";
import type { AuthContext } from "../../http/auth-context";
import { hashSecret, randomToken } from "../secrets";
import { revokeGrant, type RevokedGrant } from "./grants";
import { seal, unseal } from "./sealing";

export type TokenPair = { access_token: string; token_type: "Bearer"; expires_in: number; refresh_token: string; scope: string };

type NewToken = { hash: string; kind: "access" | "refresh"; grantId: string; scopes: string; createdAt: Date; expiresAt: Date };

/**
 * A new access token and refresh token for a grant, not yet stored: the RFC 6749 §5.1 response body
 * (whose `scope` is the access token's) and the rows to insert. `refreshScopes` defaults to `scopes`.
 */
function newTokens(grantId: string, scopes: readonly string[], config: Config, refreshScopes: readonly string[] = scopes, now = new Date()) {
  const access = randomToken();
  const refresh = randomToken();
  const scope = scopes.join(" ");
  const after = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  const rows: NewToken[] = [
    { hash: hashSecret(access), kind: "access", grantId, scopes: scope, createdAt: now, expiresAt: after(config.ACCESS_TOKEN_TTL_SECONDS) },
    { hash: hashSecret(refresh), kind: "refresh", grantId, scopes: refreshScopes.join(" "), createdAt: now, expiresAt: after(config.REFRESH_TOKEN_TTL_SECONDS) },
  ];
  const pair: TokenPair = { access_token: access, token_type: "Bearer", expires_in: config.ACCESS_TOKEN_TTL_SECONDS, refresh_token: refresh, scope };
  return { pair, rows };
}

/** Issues an access token and a refresh token for a grant (see `newTokens`). */
export async function issueTokens(db: Database, grantId: string, scopes: readonly string[], config: Config, refreshScopes: readonly string[] = scopes): Promise<TokenPair> {
  const { pair, rows } = newTokens(grantId, scopes, config, refreshScopes);
  await db.insert(oauthTokens).values(rows);
  return pair;
}

/**
 * Inserts `row` only if the spent token `spentHash` now carries `sealed`, that is only if this request's
 * rotation won: a refresh that lost the race leaves no tokens behind. Batched with the rotation's UPDATE.
 */
function insertIfRotated(db: Database, row: NewToken, spentHash: string, sealed: string) {
  const value = (v: string | number | null, column: string) => sql`${v}`.as(column);
  // drizzle's insert-select wants every column, in the table's order.
  const values = db
    .select({
      hash: value(row.hash, "hash"),
      kind: value(row.kind, "kind"),
      grantId: value(row.grantId, "grant_id"),
      scopes: value(row.scopes, "scopes"),
      createdAt: value(row.createdAt.getTime(), "created_at"),
      expiresAt: value(row.expiresAt.getTime(), "expires_at"),
      rotatedAt: value(null, "rotated_at"),
      revokedAt: value(null, "revoked_at"),
      sealedSuccessor: value(null, "sealed_successor"),
    })
    .from(oauthTokens)
    .where(and(eq(oauthTokens.hash, spentHash), eq(oauthTokens.sealedSuccessor, sealed)));
  return db.insert(oauthTokens).select(values);
}

/** A token with its grant, as far as the caller needs it; null when unknown. */
function findToken(db: Database, token: string) {
  return findTokenByHash(db, hashSecret(token));
}

/**
 * A token with its grant, user and blocks: read on every authenticated request, so compiled once, and
 * batched with a request's first read (see `secured`), so its columns have names of their own.
 */
const tokenByHash = compile(["hash"], (p) =>
  qb
    .select({
      hash: oauthTokens.hash,
      kind: oauthTokens.kind,
      scopes: oauthTokens.scopes,
      createdAt: renamed(oauthTokens.createdAt, "token_created_at"),
      expiresAt: oauthTokens.expiresAt,
      rotatedAt: oauthTokens.rotatedAt,
      revokedAt: renamed(oauthTokens.revokedAt, "token_revoked_at"),
      sealedSuccessor: oauthTokens.sealedSuccessor,
      grantId: renamed(oauthGrants.id, "grant_id"),
      grantRevokedAt: renamed(oauthGrants.revokedAt, "grant_revoked_at"),
      clientId: oauthGrants.clientId,
      userId: oauthGrants.userId,
      user: users,
      // Whom the user blocked, read with the token: every view of messages hides theirs at no extra round trip.
      blocked: sql<string>`(SELECT json_group_array(${blocks.blockedId}) FROM ${blocks} WHERE ${blocks.blockerId} = ${users.id})`.mapWith((v: string) => JSON.parse(v) as number[]).as("blocked"),
    })
    .from(oauthTokens)
    .innerJoin(oauthGrants, eq(oauthGrants.id, oauthTokens.grantId))
    .innerJoin(users, eq(users.id, oauthGrants.userId))
    .where(eq(oauthTokens.hash, p.hash)),
);

/** The statement reading the token with SHA-256 `hash` (no row if unknown), for `accessOf`. */
export const tokenStatement = (db: Database, hash: string) => tokenByHash.bind(db, { hash });

async function findTokenByHash(db: Database, hash: string) {
  return (await first(tokenStatement(db, hash))) ?? null;
}

type FoundToken = NonNullable<Awaited<ReturnType<typeof findTokenByHash>>>;

const isLive = (t: FoundToken, now = Date.now()) =>
  !t.revokedAt && !t.grantRevokedAt && !t.rotatedAt && t.user.isActive && t.expiresAt.getTime() > now;

/** The identity behind a token's row if it is a live access token, else null (unknown, expired, revoked, or inactive user). */
export function accessOf(t: FoundToken | undefined | null): AuthContext | null {
  if (!t || t.kind !== "access" || !isLive(t)) return null;
  const { user } = t;
  return {
    userId: t.userId,
    user,
    grantId: t.grantId,
    tokenHash: t.hash,
    clientId: t.clientId,
    scopes: t.scopes.split(" ").filter(Boolean),
    expiresAt: t.expiresAt.getTime(),
    blocked: t.blocked as number[],
  };
}

/** The identity behind a live access token, or null (unknown, expired, revoked, or inactive user). */
export function verifyAccessToken(db: Database, token: string): Promise<AuthContext | null> {
  return accessByHash(db, hashSecret(token));
}

/** `verifyAccessToken` for a token known by its SHA-256 `hash`. */
export async function accessByHash(db: Database, hash: string): Promise<AuthContext | null> {
  return accessOf(await findTokenByHash(db, hash));
}

/**
 * The user id of the token with SHA-256 `hash`, as SQL: a read batched with the token's own statement
 * names its viewer with it before the token is checked (the batch's answer is used only once it is).
 */
export const viewerByToken = (hash: unknown) =>
  sql<number>`(SELECT ${oauthGrants.userId} FROM ${oauthTokens} INNER JOIN ${oauthGrants} ON ${oauthGrants.id} = ${oauthTokens.grantId} WHERE ${oauthTokens.hash} = ${hash})`;

/**
 * True while the access token with this hash is live (not expired, revoked, rotated away with its grant,
 * or its user deactivated): a ticket minted with a token is only good while the token is.
 */
export async function accessTokenLive(db: Database, hash: string): Promise<boolean> {
  const t = await findTokenByHash(db, hash);
  return !!t && t.kind === "access" && isLive(t);
}

export type RefreshResult = { tokens: TokenPair } | { error: "invalid_grant" | "invalid_scope"; description: string; revoked?: RevokedGrant | null } | { limited: true };

/** RFC 9700 §4.14.2, said to the client whose refresh lost: it must sign in again. */
export const REUSED_REFRESH =
  "This refresh token was already used, so its grant has been revoked (refresh token reuse detection, RFC 9700 §4.14.2). " +
  "Sign in again, and send one refresh at a time.";

/**
 * How long after its rotation a spent refresh token still gets that rotation's answer again. A client
 * whose answer was lost (network drop, server killed mid-answer) retries within seconds, after its own
 * timeout; a minute covers slow networks and a restart, while keeping short the time in which a stolen
 * spent token is worth anything (and that ends sooner, at the client's next refresh, see `answerAgain`).
 */
export const REFRESH_RETRY_WINDOW_MS = 60_000;

/**
 * Spends a refresh token and issues a new pair (rotation). The spend is one conditional UPDATE, in one
 * batch with the new tokens, so of two concurrent refreshes exactly one rotates. Presenting a spent token
 * revokes the grant (RFC 9700 §4.14.2), except that within REFRESH_RETRY_WINDOW_MS, while the new refresh
 * token is unused, it answers that same pair again (`answerAgain`): a client cannot tell a lost answer from
 * a refused one and retries. `admit` is asked once the token is known to exist, with its grant (the
 * per-grant limit), and stops the refresh when it answers false.
 */
export async function refreshTokens(
  db: Database,
  token: string,
  clientId: string,
  requested: readonly string[] | null,
  config: Config,
  admit: (grantId: string) => Promise<boolean> = async () => true,
): Promise<RefreshResult> {
  const t = await findToken(db, token);
  const invalid = { error: "invalid_grant", description: "The refresh token is invalid, expired or revoked." } as const;
  if (!t || t.kind !== "refresh" || t.clientId !== clientId) return invalid;
  if (!(await admit(t.grantId))) return { limited: true };
  if (t.rotatedAt) return answerAgainOrRevoke(db, token, t);
  if (!isLive(t)) return invalid;
  const granted = t.scopes.split(" ").filter(Boolean);
  const scopes = requested ?? granted;
  // RFC 6749 §6: a refresh may narrow the scope, never widen it.
  if (!scopes.every((s) => granted.includes(s))) return { error: "invalid_scope", description: "A refresh cannot widen the scope." };
  const now = new Date();
  // RFC 6749 §6: the new refresh token keeps exactly the scope of the one presented; only the access
  // token is narrowed. Otherwise one narrowed refresh would lose the rest of the grant for good.
  const next = newTokens(t.grantId, scopes, config, granted, now);
  const sealed = await seal(token, t.hash, next.pair);
  const [spent] = await batch(db, [
    db
      .update(oauthTokens)
      .set({ rotatedAt: now, sealedSuccessor: sealed })
      .where(and(eq(oauthTokens.hash, t.hash), isNull(oauthTokens.rotatedAt), isNull(oauthTokens.revokedAt), gt(oauthTokens.expiresAt, now)))
      .returning({ hash: oauthTokens.hash }),
    insertIfRotated(db, next.rows[0]!, t.hash, sealed),
    insertIfRotated(db, next.rows[1]!, t.hash, sealed),
    // Only this rotation's answer can still be given again: every earlier one's refresh token is now spent.
    db
      .update(oauthTokens)
      .set({ sealedSuccessor: null })
      .where(and(eq(oauthTokens.grantId, t.grantId), ne(oauthTokens.hash, t.hash), isNotNull(oauthTokens.sealedSuccessor))),
  ]);
  if (spent.length > 0) return { tokens: next.pair };
  // Lost a race with another refresh of the same token: as if presented once that one had committed.
  const after = await findTokenByHash(db, t.hash);
  return answerAgainOrRevoke(db, token, after ?? t);
}

/**
 * The answer of the rotation that spent `t`, once more, for a client that never received it: only within
 * REFRESH_RETRY_WINDOW_MS, and only while that answer's refresh token is unused (neither rotated nor
 * revoked) and its grant live. A thief replaying the spent token after its client moved on gets null.
 */
async function answerAgain(db: Database, token: string, t: FoundToken): Promise<TokenPair | null> {
  if (!t.rotatedAt || !t.sealedSuccessor) return null;
  const elapsed = Date.now() - t.rotatedAt.getTime();
  if (elapsed > REFRESH_RETRY_WINDOW_MS) return null;
  const pair = await unseal<TokenPair>(token, t.hash, t.sealedSuccessor);
  const successor = pair && (await findToken(db, pair.refresh_token));
  if (!pair || !successor || !isLive(successor)) return null;
  // The same tokens; the access token has aged since they were first answered.
  return { ...pair, expires_in: Math.max(0, pair.expires_in - Math.ceil(elapsed / 1000)) };
}

/** A spent refresh token presented: its rotation's answer again if `answerAgain` allows, else reuse. */
async function answerAgainOrRevoke(db: Database, token: string, t: FoundToken): Promise<RefreshResult> {
  const tokens = await answerAgain(db, token, t);
  if (tokens) return { tokens };
  const revoked = await revokeGrant(db, t.grantId);
  // Nothing of a revoked grant may be answered again.
  await db.update(oauthTokens).set({ sealedSuccessor: null }).where(and(eq(oauthTokens.grantId, t.grantId), isNotNull(oauthTokens.sealedSuccessor)));
  return { error: "invalid_grant", description: REUSED_REFRESH, revoked };
}

/**
 * RFC 7009 revocation on behalf of `clientId`. A refresh token ends its whole grant; an access token ends
 * itself. Tokens of other clients and unknown tokens are left alone, and the caller answers 200 either way.
 */
export async function revokeToken(db: Database, token: string, clientId: string): Promise<{ userId: number; grantId: string } | null> {
  const t = await findToken(db, token);
  if (!t || t.clientId !== clientId) return null;
  if (t.kind === "refresh") await revokeGrant(db, t.grantId);
  else await db.update(oauthTokens).set({ revokedAt: new Date() }).where(eq(oauthTokens.hash, t.hash));
  return { userId: t.userId, grantId: t.grantId };
}

/**
 * RFC 7662 §2.2 introspection response for `caller`. §4: a client learns only about its own tokens
 * (another client's token answers inactive, so nothing about its user leaks) unless staff gave it the
 * `introspect` permission, as a resource server needs.
 */
export async function introspectToken(db: Database, token: string, issuer: string, caller: { id: string; introspect: boolean }) {
  const t = await findToken(db, token);
  if (!t || !isLive(t) || (t.clientId !== caller.id && !caller.introspect)) return { active: false as const };
  return {
    active: true as const,
    scope: t.scopes,
    client_id: t.clientId,
    username: t.user.email,
    token_type: t.kind === "access" ? "Bearer" : "refresh_token",
    exp: Math.floor(t.expiresAt.getTime() / 1000),
    iat: Math.floor(t.createdAt.getTime() / 1000),
    sub: String(t.userId),
    iss: issuer,
  };
}
