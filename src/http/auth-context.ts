import type { UserRow } from "../db/schema";

/** Who a request acts for, as established by its access token. */
export type AuthContext = {
  userId: number;
  /** The user's row, read in the same query as the token (so /users/me costs no second round trip). */
  user: UserRow;
  /** Read with the token on every request, so a withdrawn staff flag takes effect at once. */
  isStaff: boolean;
  /** The names messages show for their sender, read in the same query as the token. */
  firstName: string;
  lastName: string;
  grantId: string;
  /** SHA-256 of the access token, so what it opened (a socket ticket) can be checked against it later. */
  tokenHash: string;
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
};
