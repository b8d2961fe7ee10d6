import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { randomToken, safeEqual } from "../secrets";
import { CSRF_COOKIE, endSession, SESSION_COOKIE, sessionUser } from "../sessions";
import { cookie, page } from "./page-responses";
import { errorPage, logoutPage, signedOutPage } from "./pages";

const html = { description: "An HTML page", content: { "text/html": { schema: z.string() } } };
const Form = z.object({ csrf_token: z.string().max(200).optional() });

const show = createRoute({
  method: "get",
  path: "/o/logout/",
  tags: ["OAuth"],
  summary: "Sign-out page of the browser's Hey sign-in",
  operationId: "showLogout",
  description: "An HTML page: the signed-in account and a Sign out button that posts here with the page's form token, or a note that this browser is not signed in.",
  security: [],
  responses: { 200: html },
});

const submit = createRoute({
  method: "post",
  path: "/o/logout/",
  tags: ["OAuth"],
  summary: "Ends the browser's Hey sign-in (RP-initiated logout)",
  operationId: "logout",
  description:
    "Deletes the sign-in session and clears its cookie, so the next authorization asks for the password again. " +
    "Apps' tokens are not touched: revoke them at /o/revoke_token/ first. CSRF-checked: the page's form token, " +
    "or a same-origin `fetch` from the web app (its `Origin` header).",
  security: [],
  request: { body: { required: false, content: { "application/x-www-form-urlencoded": { schema: Form } } } },
  responses: { 200: html, 403: html },
});

/** True when the POST came from this site: the page's double-submit token, or a same-origin fetch. */
function fromThisSite(c: Context<AppEnv>, csrfToken: string | undefined): boolean {
  const expected = getCookie(c, CSRF_COOKIE);
  if (expected && csrfToken && safeEqual(csrfToken, expected)) return true;
  return c.req.header("Origin") === new URL(c.req.url).origin;
}

export const logoutRoutes = new OpenAPIHono<AppEnv>({
  defaultHook: (result, c) => {
    if (!result.success) return page(c, errorPage("The sign-out request is malformed."), 400);
  },
})
  .openapi(show, async (c) => {
    const csrf = getCookie(c, CSRF_COOKIE) ?? randomToken();
    const user = await sessionUser(database(c.env.DB), getCookie(c, SESSION_COOKIE));
    return page(c, logoutPage(csrf, user?.email ?? null), 200, csrf);
  })
  .openapi(submit, async (c) => {
    const form = c.req.header("Content-Type")?.startsWith("application/x-www-form-urlencoded") ? c.req.valid("form") : {};
    if (!fromThisSite(c, form.csrf_token)) {
      return page(c, errorPage("The sign-out did not come from this site. Open /o/logout/ and try again."), 403);
    }
    await endSession(database(c.env.DB), getCookie(c, SESSION_COOKIE));
    return page(c, signedOutPage(), 200, undefined, cookie(SESSION_COOKIE, "", 0));
  });
