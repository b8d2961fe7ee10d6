import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { config } from "../../config";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { authenticate } from "../../users/users";
import { clientIp } from "../../limits/client-address";
import { passwordKey, refill, take } from "../../limits/limits";
import { randomToken, safeEqual } from "../secrets";
import { createSession, CSRF_COOKIE, SESSION_COOKIE, sessionUser } from "../sessions";
import { checkAuthorizeRequest, redirectTo, type AuthorizeRequest } from "./authorize-request";
import { issueCode } from "./codes";
import { createGrant, hasLiveGrant } from "./grants";
import { issuerOf } from "./issuer";
import { consentPage, errorPage, loginPage, type AppShown } from "./pages";
import { cookie, page, redirect } from "./page-responses";
import type { Scope } from "../scopes";
import type { UserRow } from "../../db/schema";

const Query = z.object({
  response_type: z.string().optional(),
  client_id: z.string().optional(),
  redirect_uri: z.string().optional(),
  scope: z.string().optional(),
  state: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  /** OpenID Connect's hint: the email to prefill on the sign-in form. */
  login_hint: z.string().max(254).optional(),
});

const Form = z.object({
  csrf_token: z.string().optional(),
  email: z.string().max(254).optional(),
  password: z.string().max(1024).optional(),
  decision: z.enum(["approve", "deny"]).optional(),
});

const html = { description: "An HTML page", content: { "text/html": { schema: z.string() } } };
const responses = { 200: html, 303: { description: "Back to the client's redirect URI." }, 400: html, 403: html, 429: html };

const show = createRoute({
  method: "get",
  path: "/o/authorize/",
  tags: ["OAuth"],
  summary: "Authorization endpoint (sign-in and consent pages)",
  operationId: "authorize",
  description: "RFC 6749 §4.1.1 with PKCE S256 required (RFC 7636).",
  security: [],
  request: { query: Query },
  responses,
});

const submit = createRoute({
  method: "post",
  path: "/o/authorize/",
  tags: ["OAuth"],
  summary: "Submits the sign-in or consent form",
  operationId: "submitAuthorization",
  description:
    "The pages' own form, not for API clients: signs in (email and password, limited per address and per account) or records " +
    "the consent decision, then redirects back to the client with a code or an error (RFC 6749 §4.1.2). CSRF-checked with the page's form token.",
  security: [],
  request: { query: Query, body: { required: true, content: { "application/x-www-form-urlencoded": { schema: Form } } } },
  responses,
});

/** Validates the request; answers with an error page or error redirect when it is not acceptable. */
async function authorizeRequest(c: Context<AppEnv>, query: z.infer<typeof Query>): Promise<AuthorizeRequest | Response> {
  const check = await checkAuthorizeRequest(database(c.env.DB), query);
  if ("page" in check) return page(c, errorPage(check.page), 400);
  if ("redirect" in check) {
    const { redirectUri, error, description, state } = check.redirect;
    return redirect(redirectTo(redirectUri, { error, error_description: description, state, iss: issuerOf(c.env, c.req.url) }));
  }
  return check.ok;
}

/** The app as the pages show it: a redirect host is what a self-registered name cannot fake. */
function shown(request: AuthorizeRequest): AppShown {
  const url = new URL(request.redirectUri);
  return { name: request.client.name, redirectHost: url.host || url.protocol, unverified: request.client.dynamic };
}

/**
 * The scopes this user can grant: `admin` only by staff (others grant the rest, and the token response's
 * `scope` says what they got, RFC 6749 §5.1); null when nothing is left.
 */
function grantable(scopes: readonly Scope[], user: UserRow): Scope[] | null {
  const left = user.isStaff ? [...scopes] : scopes.filter((s) => s !== "admin");
  return left.length ? left : null;
}

function noScopeLeft(c: Context<AppEnv>, request: AuthorizeRequest): Response {
  const description = "Only staff may grant the admin scope.";
  return redirect(redirectTo(request.redirectUri, { error: "invalid_scope", error_description: description, state: request.state, iss: issuerOf(c.env, c.req.url) }));
}

function action(c: Context<AppEnv>): string {
  return `/o/authorize/${new URL(c.req.url).search}`;
}

export const authorizeRoutes = new OpenAPIHono<AppEnv>({
  defaultHook: (result, c) => {
    if (!result.success) return page(c, errorPage("The sign-in request is malformed."), 400);
  },
})
  .openapi(show, async (c) => {
    const request = await authorizeRequest(c, c.req.valid("query"));
    if (request instanceof Response) return request;
    const csrf = getCookie(c, CSRF_COOKIE) ?? randomToken();
    const db = database(c.env.DB);
    const user = await sessionUser(db, getCookie(c, SESSION_COOKIE));
    if (!user) return page(c, loginPage(action(c), csrf, shown(request), undefined, c.req.valid("query").login_hint ?? ""), 200, csrf);
    const scopes = grantable(request.scopes, user);
    if (!scopes) return noScopeLeft(c, request);
    // Consent once: an app staff registered, already allowed these scopes by a grant still alive, is
    // not asked again (a self-registered app always is, and so is any request for admin).
    if (!request.client.dynamic && !scopes.includes("admin") && (await hasLiveGrant(db, user.id, request.client.id, scopes))) {
      return approved(c, request, user, scopes);
    }
    return page(c, consentPage(action(c), csrf, shown(request), user.email, scopes), 200, csrf);
  })
  .openapi(submit, async (c) => {
    const request = await authorizeRequest(c, c.req.valid("query"));
    if (request instanceof Response) return request;
    const form = c.req.valid("form");
    const expected = getCookie(c, CSRF_COOKIE);
    // Double-submit check: a cross-site form cannot read or set our __Host- cookie.
    if (!expected || !form.csrf_token || !safeEqual(form.csrf_token, expected)) {
      return page(c, errorPage("The form has expired or did not come from this site. Go back and try again."), 403);
    }
    const db = database(c.env.DB);
    const cfg = config(c.env);

    if (form.decision === undefined) {
      const email = (form.email ?? "").trim().toLowerCase();
      const tooMany = () => page(c, loginPage(action(c), expected, shown(request), "Too many sign-in attempts. Wait a few minutes and try again.", email), 429);
      // Each slot is taken before the password is checked, in the bucket's Durable Object, so 25
      // concurrent guesses for one account get at most RATE_PASSWORD_LIMIT password checks between them.
      const flood = await take(c.env, "login", `ip:${clientIp(c.req.header("CF-Connecting-IP"))}`);
      if (!flood.decision.allowed) return tooMany();
      const guesses = await take(c.env, "password", passwordKey(email));
      if (!guesses.decision.allowed) return tooMany();
      const user = await authenticate(db, email, form.password ?? "");
      if (!user) return page(c, loginPage(action(c), expected, shown(request), "That email and password do not match.", email), 400);
      await refill(c.env, "password", passwordKey(email));
      const session = await createSession(db, user.id, cfg.SESSION_TTL_SECONDS);
      return redirect(action(c), cookie(SESSION_COOKIE, session, cfg.SESSION_TTL_SECONDS));
    }

    const user = await sessionUser(db, getCookie(c, SESSION_COOKIE));
    if (!user) return page(c, loginPage(action(c), expected, shown(request), "Sign in again to continue."), 200);
    const iss = issuerOf(c.env, c.req.url);
    if (form.decision === "deny") {
      return redirect(redirectTo(request.redirectUri, { error: "access_denied", error_description: "The user denied the request.", state: request.state, iss }));
    }
    const scopes = grantable(request.scopes, user);
    if (!scopes) return noScopeLeft(c, request);
    return approved(c, request, user, scopes);
  });

/** The user allowed the request: a new grant, and its code back to the client. */
async function approved(c: Context<AppEnv>, request: AuthorizeRequest, user: UserRow, scopes: Scope[]): Promise<Response> {
  const db = database(c.env.DB);
  const grantId = await createGrant(db, user.id, request.client.id, scopes);
  // RFC 6749 §4.1.3: the token request must repeat redirect_uri exactly when this request carried one.
  const code = await issueCode(db, grantId, new URL(c.req.url).searchParams.get("redirect_uri") ?? "", request.codeChallenge, config(c.env));
  return redirect(redirectTo(request.redirectUri, { code, state: request.state, iss: issuerOf(c.env, c.req.url) }));
}
