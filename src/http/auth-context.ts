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
