import { DomainError } from "../errors";
import { problem, type FieldError } from "../http/problem";
import { rateLimitHeaders } from "../limits/limits";
import type { Decision, Policy } from "../limits/rate-limiter";

/** A bucket's answer, so an allowed request can carry the RateLimit fields too. */
export type Limit = { policy: Policy; decision: Decision };

/**
 * A failure as it crosses the room's RPC boundary (class instances do not survive it): a plain object
 * that each protocol maps to its own shape — `unwrap` for REST, the `error` frame for sockets.
 */
export type Failure = {
  ok: false;
  status: 400 | 403 | 404 | 409 | 429 | 503;
  detail: string;
  errors?: FieldError[];
  /** With 429: the bucket that said no. */
  limit?: Limit;
};

/** `bookmarks`: where the change was written (see src/db/sessions.ts), so the client's next read sees it. */
export type Outcome<T> = { ok: true; value: T; bookmarks?: Record<string, string> } | Failure;

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (status: Failure["status"], detail: string, extra: Partial<Failure> = {}): Failure => ({ ok: false, status, detail, ...extra });

/** REST's side of the boundary, where the request has read sessions: unwrap, and the response carries the write's bookmarks. */
export function settled<T>(reads: { wrote(bookmarks: Record<string, string> | undefined): void }, outcome: Outcome<T>): T {
  if (outcome.ok) reads.wrote(outcome.bookmarks);
  return unwrap(outcome);
}

/** REST's side of the boundary: the value, or the failure thrown as problem+json (with RateLimit fields on 429). */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  if (outcome.limit) throw problem(429, outcome.detail, { headers: rateLimitHeaders(outcome.limit.policy, outcome.limit.decision) });
  throw new DomainError(outcome.status, outcome.detail, outcome.errors);
}
