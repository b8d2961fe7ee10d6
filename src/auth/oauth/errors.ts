/** RFC 6749 §5.2 error codes, plus RFC 7591's for registration. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "server_error"
  | "temporarily_unavailable"
  | "invalid_redirect_uri"
  | "invalid_client_metadata"
  | "access_denied";

/** The one builder of OAuth error responses: `{error, error_description}`, never cached. */
export function oauthError(error: OAuthErrorCode, description: string, status = 400, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("Content-Type", "application/json");
  h.set("Cache-Control", "no-store");
  return new Response(JSON.stringify({ error, error_description: description }), { status, headers: h });
}

/** A JSON success response from an OAuth endpoint; RFC 6749 §5.1 forbids caching token responses. */
export function oauthJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" },
  });
}
