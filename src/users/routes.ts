import { createRoute, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { currentUser, currentViewer } from "../auth/current-user";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { IdParam } from "../http/params";
import { createRouter } from "../http/router";
import { config } from "../config";
import { clientIp } from "../limits/client-address";
import { limitBy } from "../limits/middleware";
import { revoked } from "../auth/revocation";
import { issuerOf } from "../auth/oauth/issuer";
import { issueReset, RESET_MINUTES } from "../auth/password-resets";
import { hub } from "../realtime/hub-stub";
import { listUsers, visibleUser, type DirectoryEntry, type Viewer } from "./directory";
import { updateProfile, updateUserFlags } from "./profile";
import { ProfileChangesSchema, PublicUserSchema, SignupSchema, StaffChangesSchema, UserSchema } from "./schemas";
import { createUser, getUserById, toPublicUser, toUserResource } from "./users";

const tags = ["Users"];
const AnyUser = z.union([UserSchema, PublicUserSchema]);

// The defaults the descriptions quote; a deployment may set its own in wrangler.toml.
const defaults = config({});

/** The full record for the user themself and for an administrator; the public one for anyone else. */
const show = (viewer: Viewer, { user, presence }: DirectoryEntry) => (viewer.admin || viewer.id === user.id ? toUserResource(user) : toPublicUser(user, presence));

const signup = createRoute({
  method: "post",
  path: "/api/users/",
  tags,
  summary: "Sign up",
  operationId: "signUp",
  description:
    `Open to anyone; limited per address (RATE_SIGNUP_LIMIT, by default ${defaults.RATE_SIGNUP_LIMIT} per ${defaults.RATE_SIGNUP_WINDOW_SECONDS} s). ` +
    "The email is the login name and is compared case-insensitively; 409 when it is taken. Phone numbers need not be " +
    "unique, so sign-up never tells whether a number is on Hey.",
  security: [],
  middleware: limitBy("signup", (c) => `ip:${clientIp(c.req.header("CF-Connecting-IP"))}`),
  request: { body: jsonBody(SignupSchema) },
  responses: { 201: jsonResponse(UserSchema, "The new user."), ...problems(400, 409, 413, 415, 429) },
});

const me = createRoute({
  method: "get",
  path: "/api/users/me/",
  tags,
  summary: "The signed-in user",
  operationId: "getMe",
  description: "Needs the `profile` scope. The full record, phone number and flags included.",
  ...secured("profile"),
  responses: { 200: jsonResponse(UserSchema, "The signed-in user."), ...problems(401, 403) },
});

const updateMe = createRoute({
  method: "patch",
  path: "/api/users/me/",
  tags,
  summary: "Edit the signed-in user's profile",
  operationId: "updateMe",
  description:
    "Needs the `profile` scope. Changing the password needs `current_password` and ends every other token and session " +
    "of the user. Each check of `current_password` spends a guess from the account's bucket, shared with the sign-in page " +
    `(RATE_PASSWORD_LIMIT, by default ${defaults.RATE_PASSWORD_LIMIT} per ${defaults.RATE_PASSWORD_WINDOW_SECONDS} s); a right password refills it. ` +
    `Setting a new \`phone_number\` is limited per user (RATE_PHONE_LIMIT, by default ${defaults.RATE_PHONE_LIMIT} per ${defaults.RATE_PHONE_WINDOW_SECONDS} s); ` +
    "removing it is not. Phone numbers need not be unique. Over a limit: 429 with Retry-After and the RateLimit fields, and nothing changes.",
  ...secured("profile"),
  request: { body: jsonBody(ProfileChangesSchema) },
  responses: { 200: jsonResponse(UserSchema, "The updated user."), ...problems(400, 401, 403, 429) },
});

const list = createRoute({
  method: "get",
  path: "/api/users/",
  tags,
  summary: "List users",
  operationId: "listUsers",
  description:
    "Needs the `profile` scope. Lists the caller (in full) and the people they share a conversation with (as `PublicUser`: " +
    "no email, phone number or flags), or looks one user up by exact `email`, in any letter case, to start a conversation. " +
    "Only an administrator (a staff user whose token carries the `admin` scope) sees everyone in full and may `search` " +
    "email and names; a staff user's token without `admin` sees what anyone's does, and `search` is ignored.",
  ...secured("profile"),
  request: { query: PageQuery.extend({ search: z.string().max(254).optional(), email: z.string().max(254).optional() }) },
  responses: { 200: jsonResponse(pageOf(AnyUser, "UserPage"), "A page of users."), ...problems(400, 401, 403, 404) },
});

const detail = createRoute({
  method: "get",
  path: "/api/users/{id}/",
  tags,
  summary: "One user",
  operationId: "getUser",
  description:
    "Needs the `profile` scope. The caller themself in full; someone who shares a conversation with the caller as " +
    "`PublicUser`; anyone else is 404, as if they did not exist. An administrator (staff, with the `admin` scope) sees any user in full.",
  ...secured("profile"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(AnyUser, "The user."), ...problems(401, 403, 404) },
});

const staffUpdate = createRoute({
  method: "patch",
  path: "/api/users/{id}/",
  tags,
  summary: "Activate, deactivate, or grant staff (administrators only)",
  operationId: "updateUser",
  description:
    "Needs the `admin` scope and a staff user, checked on every request: a staff user's token without `admin` gets 403 " +
    "and changes nothing. Deactivating a user ends all of their tokens and sessions at once.",
  ...secured("admin"),
  request: { params: IdParam, body: jsonBody(StaffChangesSchema) },
  responses: { 200: jsonResponse(UserSchema, "The updated user."), ...problems(400, 401, 403, 404) },
});

const passwordReset = createRoute({
  method: "post",
  path: "/api/users/{id}/password-reset/",
  tags,
  summary: "Issue a one-time password reset link (administrators only)",
  operationId: "issuePasswordReset",
  description:
    `Needs the \`admin\` scope and a staff user. For a user who forgot their password: a link good for ${RESET_MINUTES} minutes and one use, ` +
    "to hand over by a channel you trust (Hey sends no email). It opens a page that sets a new password and signs the user out " +
    "everywhere. A new link replaces the user's earlier unused one; only its hash is stored.",
  ...secured("admin"),
  request: { params: IdParam },
  responses: {
    201: jsonResponse(z.object({ url: z.string(), expires_at: z.iso.datetime() }).openapi("PasswordResetLink"), "The link."),
    ...problems(401, 403, 404),
  },
});

export const userRoutes = createRouter()
  .openapi(signup, async (c) => {
    const user = await createUser(c.var.db, c.req.valid("json"));
    return c.json(toUserResource(user), 201);
  })
  .openapi(me, async (c) => c.json(toUserResource(currentUser(c)), 200))
  .openapi(updateMe, async (c) => {
    const before = currentUser(c);
    const { user, revokedGrants } = await updateProfile(c.env, c.var.db, before, c.req.valid("json"), c.get("auth").grantId);
    await revoked(c.env, c.var.db, user.id, revokedGrants);
    // Contacts with a stream open see the user appear or vanish.
    if (user.showPresence !== before.showPresence) c.executionCtx.waitUntil(hub(c.env, user.id).presenceChanged(user.id));
    return c.json(toUserResource(user), 200);
  })
  .openapi(list, async (c) => {
    const { search, email, ...query } = c.req.valid("query");
    const me = currentViewer(c);
    const { count, rows } = await listUsers(c.var.reads.main, me, { search, email, ...pageWindow(c, query) });
    return c.json(pageResult(c, query, count, rows.map((u) => show(me, u))), 200);
  })
  .openapi(detail, async (c) => {
    const me = currentViewer(c);
    const entry = await visibleUser(c.var.reads.main, me, c.req.valid("param").id);
    if (!entry) throw new DomainError(404, "No such user.");
    return c.json(show(me, entry), 200);
  })
  .openapi(passwordReset, async (c) => {
    const user = await getUserById(c.var.db, c.req.valid("param").id);
    if (!user) throw new DomainError(404, "No such user.");
    const { token, expiresAt } = await issueReset(c.var.db, user.id, c.get("auth").userId);
    return c.json({ url: `${issuerOf(c.env, c.req.url)}/o/reset/${token}/`, expires_at: expiresAt.toISOString() }, 201);
  })
  .openapi(staffUpdate, async (c) => {
    const { user } = await updateUserFlags(c.var.db, c.req.valid("param").id, c.req.valid("json"));
    if (!user.isActive) await revoked(c.env, c.var.db, user.id, null);
    return c.json(toUserResource(user), 200);
  });
