/** Who a request acts for, as established by its access token. */
export type AuthContext = {
  userId: number;
  grantId: string;
  clientId: string;
  scopes: readonly string[];
  expiresAt: number;
};
