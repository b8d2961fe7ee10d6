/** Who a request acts for, as established by its access token. */
export type AuthContext = {
  userId: number;
  /** Read with the token on every request, so a withdrawn staff flag takes effect at once. */
  isStaff: boolean;
  grantId: string;
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
};
