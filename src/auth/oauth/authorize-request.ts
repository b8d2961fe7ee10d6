import type { Database } from "../../db/client";
import type { ClientRow } from "../../db/schema";
import { isSubset, parseScopes, type Scope } from "../scopes";
import { getClient, redirectUriMatches } from "./clients";
import { isValidChallenge } from "./pkce";

export type AuthorizeParams = Partial<
  Record<"response_type" | "client_id" | "redirect_uri" | "scope" | "state" | "code_challenge" | "code_challenge_method", string>
>;

export type AuthorizeRequest = { client: ClientRow; redirectUri: string; scopes: Scope[]; state?: string; codeChallenge: string };

export type AuthorizeCheck =
  | { ok: AuthorizeRequest }
  /** The client or redirect URI is not trusted: show a page, never redirect (RFC 6749 §4.1.2.1). */
  | { page: string }
  /** The client is known: the error goes back to it on the redirect URI. */
  | { redirect: { redirectUri: string; state?: string; error: string; description: string } };

/** Validates an authorization request in the order RFC 6749 §4.1.2.1 requires: client and redirect URI first. */
export async function checkAuthorizeRequest(db: Database, p: AuthorizeParams): Promise<AuthorizeCheck> {
  const client = p.client_id ? await getClient(db, p.client_id) : undefined;
  if (!client) return { page: "The application asking you to sign in is not registered with Hey." };
  const redirectUri = p.redirect_uri ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (!redirectUri) return { page: "The request does not say where to send you back to." };
  if (!redirectUriMatches(client.redirectUris, redirectUri)) {
    return { page: "The address this request would send you back to is not registered for the application." };
  }
  // A loopback URI matches with any port (RFC 8252 §7.3), even one URL cannot parse (":99999"); redirectTo
  // would then throw, so the user got a sign-in page and then a 500 instead of this page.
  if (!parsesAsUrl(redirectUri)) return { page: "The address this request would send you back to is not a valid URL." };
  const fail = (error: string, description: string) => ({ redirect: { redirectUri, state: p.state, error, description } });
  if (p.response_type !== "code") {
    return p.response_type
      ? fail("unsupported_response_type", "Only response_type=code is supported.")
      : fail("invalid_request", "response_type is required.");
  }
  if (p.code_challenge_method !== "S256") return fail("invalid_request", "PKCE is required with code_challenge_method=S256.");
  if (!p.code_challenge || !isValidChallenge(p.code_challenge)) {
    return fail("invalid_request", "code_challenge must be a 43-character base64url S256 challenge.");
  }
  const allowed = client.scopes.split(" ").filter(Boolean);
  const scopes = p.scope === undefined ? (allowed as Scope[]) : parseScopes(p.scope);
  if (!scopes || scopes.length === 0 || !isSubset(scopes, allowed)) {
    return fail("invalid_scope", "The requested scope is unknown or not allowed for this application.");
  }
  return { ok: { client, redirectUri, scopes, state: p.state, codeChallenge: p.code_challenge } };
}

function parsesAsUrl(uri: string): boolean {
  try {
    new URL(uri);
    return true;
  } catch {
    return false;
  }
}

/** The client's redirect URI with the response parameters added (and `iss`, RFC 9207). */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}
