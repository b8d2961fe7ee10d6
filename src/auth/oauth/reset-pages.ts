import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { database } from "../../db/client";
import type { AppEnv } from "../../env";
import { PasswordSchema } from "../../users/schemas";
import { hashPassword } from "../password";
import { resetTarget, spendReset } from "../password-resets";
import { revoked } from "../revocation";
import { page } from "./page-responses";
import { resetDonePage, resetPage } from "./pages";

const html = { description: "An HTML page", content: { "text/html": { schema: z.string() } } };
const Params = z.object({ token: z.string().max(100).openapi({ param: { name: "token", in: "path" } }) });
const Form = z.object({ password: z.string().max(1024).default(""), again: z.string().max(1024).default("") });

const show = createRoute({
  method: "get",
  path: "/o/reset/{token}/",
  tags: ["OAuth"],
  summary: "Password reset page",
  operationId: "showPasswordReset",
  description: "The page a staff-issued reset link opens (POST /api/users/{id}/password-reset/): a form for a new password, or a note that the link has expired or was used.",
  security: [],
  request: { params: Params },
  responses: { 200: html, 400: html },
});

const submit = createRoute({
  method: "post",
  path: "/o/reset/{token}/",
  tags: ["OAuth"],
  summary: "Sets a new password with a reset link",
  operationId: "resetPassword",
  description: "Spends the link: the password changes, and every token and sign-in session of the user ends. The link's secret stands in for a CSRF token: a page elsewhere cannot know it.",
  security: [],
  request: { params: Params, body: { required: true, content: { "application/x-www-form-urlencoded": { schema: Form } } } },
  responses: { 200: html, 400: html },
});

export const resetPageRoutes = new OpenAPIHono<AppEnv>({
  defaultHook: (result, c) => {
    if (!result.success) return page(c, resetDonePage(false), 400);
  },
})
  .openapi(show, async (c) => {
    const target = await resetTarget(database(c.env.DB), c.req.valid("param").token);
    return target ? page(c, resetPage(c.req.path, target.email)) : page(c, resetDonePage(false), 400);
  })
  .openapi(submit, async (c) => {
    const { token } = c.req.valid("param");
    const db = database(c.env.DB);
    const target = await resetTarget(db, token);
    if (!target) return page(c, resetDonePage(false), 400);
    const { password, again } = c.req.valid("form");
    const weak = PasswordSchema.safeParse(password);
    if (!weak.success) return page(c, resetPage(c.req.path, target.email, weak.error.issues[0]!.message), 400);
    if (password !== again) return page(c, resetPage(c.req.path, target.email, "The two passwords differ; type the same one twice."), 400);
    const spent = await spendReset(db, token, await hashPassword(password));
    if (!spent) return page(c, resetDonePage(false), 400);
    // Sockets opened with the ended grants close, as after a password change.
    await revoked(c.env, db, spent.userId, null);
    return page(c, resetDonePage(true));
  });
