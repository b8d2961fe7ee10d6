import { Hono } from "hono";
import { config } from "../../config";
import type { AppEnv } from "../../env";
import { ALL_SCOPES } from "../scopes";
import { issuerOf } from "./issuer";

/** RFC 8414 authorization server metadata. */
export const metadataRoutes = new Hono<AppEnv>().get("/.well-known/oauth-authorization-server", (c) => {
  const issuer = issuerOf(c.env, c.req.url);
  return c.json({
    issuer,
    authorization_endpoint: `${issuer}/o/authorize/`,
    token_endpoint: `${issuer}/o/token/`,
    revocation_endpoint: `${issuer}/o/revoke_token/`,
    introspection_endpoint: `${issuer}/o/introspect/`,
    // OpenID RP-Initiated Logout's name for it: ends the browser's sign-in session.
    end_session_endpoint: `${issuer}/o/logout/`,
    ...(config(c.env).OAUTH_DYNAMIC_REGISTRATION ? { registration_endpoint: `${issuer}/o/register/` } : {}),
    scopes_supported: ALL_SCOPES,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    revocation_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${issuer}/docs`,
  });
});
