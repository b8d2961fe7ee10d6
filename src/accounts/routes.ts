import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { secured } from "../auth/bearer";
import { currentUser } from "../auth/current-user";
import { dataExports, type ExportPart } from "../db/schema";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { IdParam } from "../http/params";
import { createRouter } from "../http/router";
import { checkCurrentPassword } from "../users/profile";
import { getUserById } from "../users/users";
import { deleteAccount } from "./deletion";
import { checkExportLink, exportDocument, exportLink } from "./export-download";
import { EXPORT_DAYS, latestExport, startExport, type ExportRow } from "./export";
import { DataExportSchema, DeleteAccountSchema, ExportLinkQuery, type DataExport } from "./schemas";

const tags = ["Users"];
const NO_EXPORT = "No such export.";

const DELETION =
  "At once: every token and session of the user ends, their sockets and streams close, and their email and phone number are free " +
  "for a new account. Then, in the background: they leave every conversation (as leaving does: the owner's role passes to the " +
  "longest member, and a conversation they were the last member of is deleted), their files are deleted, and their messages become " +
  'tombstones (`deleted: true`, empty body, `deleted_by: "sender"`) whose sender reads "Deleted user", so everyone else\'s history keeps ' +
  "its order; sockets hear `message.deleted` for each. Their reactions go too. This cannot be undone.";

const deleteMe = createRoute({
  method: "delete",
  path: "/api/users/me/",
  tags,
  summary: "Delete the signed-in user's account",
  operationId: "deleteMe",
  description: `Needs the \`profile\` scope and \`current_password\` (checked as a password change checks it, from the same bucket of guesses). ${DELETION}`,
  ...secured("profile"),
  request: { body: jsonBody(DeleteAccountSchema) },
  responses: { 204: { description: "The account is deleted." }, ...problems(400, 401, 403, 429) },
});

const deleteUser = createRoute({
  method: "delete",
  path: "/api/users/{id}/",
  tags,
  summary: "Delete an account (administrators only)",
  operationId: "deleteUser",
  description: `Needs the \`admin\` scope and a staff user. ${DELETION}`,
  ...secured("admin"),
  request: { params: IdParam },
  responses: { 204: { description: "The account is deleted." }, ...problems(401, 403, 404) },
});

const EXPORT_CONTENTS =
  "The document holds the profile, the apps granted access, the conversations the user is in with their receipts (watermarks), " +
  "blocks, push subscriptions, files' descriptions, every live message the user sent (with when it was last edited; never a tombstone " +
  `or an expired disappearing message) and their reactions. It is built in the background and kept for ${EXPORT_DAYS} days.`;

const getExport = createRoute({
  method: "get",
  path: "/api/users/me/export/",
  tags,
  summary: "The signed-in user's data export, started if there is none",
  operationId: "getExport",
  description:
    "Needs the `profile` and `read:messages` scopes. The newest export: 200 with a download `url` once it is ready, 202 while it is built; " +
    `when there is none (or the last expired) this starts one (202). Ask again to see it progress. ${EXPORT_CONTENTS}`,
  ...secured(["profile", "read:messages"]),
  responses: { 200: jsonResponse(DataExportSchema, "The export, ready."), 202: jsonResponse(DataExportSchema, "The export, being built."), ...problems(401, 403) },
});

const newExport = createRoute({
  method: "post",
  path: "/api/users/me/export/",
  tags,
  summary: "Start a new data export",
  operationId: "startExport",
  description:
    "Needs the `profile` and `read:messages` scopes. Starts a fresh export (202), unless one is being built already, which is returned " +
    `instead (202): at most one is built at a time. ${EXPORT_CONTENTS}`,
  ...secured(["profile", "read:messages"]),
  responses: { 202: jsonResponse(DataExportSchema, "The export, being built."), ...problems(401, 403) },
});

const download = createRoute({
  method: "get",
  path: "/api/exports/{id}/",
  tags,
  summary: "Download a data export",
  operationId: "downloadExport",
  description:
    "The link from `GET /api/users/me/export/` (no token: `expires` and `signature` are its proof). A JSON document, as an attachment. " +
    "403 once the link has expired (ask for the export again for a new one); 404 for anything else wrong (a tampered link, an export deleted).",
  security: [],
  request: { params: z.object({ id: z.uuid() }), query: ExportLinkQuery },
  responses: {
    200: { description: "The export.", content: { "application/json": { schema: z.object({}).passthrough().openapi("ExportDocument") } } },
    ...problems(403, 404),
  },
});

async function exportResource(db: Parameters<typeof exportLink>[0], row: ExportRow): Promise<DataExport> {
  const link = row.status === "ready" ? await exportLink(db, row.id) : null;
  return {
    id: row.id,
    status: row.status,
    created_at: row.createdAt.toISOString(),
    ready_at: row.readyAt?.toISOString() ?? null,
    expires_at: row.expiresAt.toISOString(),
    size: row.size,
    url: link?.url ?? null,
    url_expires_at: link?.expires_at ?? null,
  };
}

export const accountRoutes = createRouter()
  .openapi(deleteMe, async (c) => {
    const user = currentUser(c);
    await checkCurrentPassword(c.env, user, c.req.valid("json").current_password);
    await deleteAccount(c.env, c.var.db, user);
    return c.body(null, 204);
  })
  .openapi(deleteUser, async (c) => {
    const user = await getUserById(c.var.db, c.req.valid("param").id);
    if (!user || user.deletedAt) throw new DomainError(404, "No such user.");
    await deleteAccount(c.env, c.var.db, user);
    return c.body(null, 204);
  })
  .openapi(getExport, async (c) => {
    const userId = c.get("auth").userId;
    const row = (await latestExport(c.var.db, userId)) ?? (await startExport(c.env, c.var.db, userId));
    const resource = await exportResource(c.var.db, row);
    return row.status === "ready" ? c.json(resource, 200) : c.json(resource, 202);
  })
  .openapi(newExport, async (c) => {
    const userId = c.get("auth").userId;
    const latest = await latestExport(c.var.db, userId);
    const row = latest?.status === "pending" ? latest : await startExport(c.env, c.var.db, userId);
    return c.json(await exportResource(c.var.db, row), 202);
  });

// Registered by hand: its answer is a stream, not a typed JSON body, and a signed link needs no token.
accountRoutes.openAPIRegistry.registerPath(download);
accountRoutes.get("/api/exports/:id/", async (c) => {
  const id = z.uuid().safeParse(c.req.param("id"));
  const query = ExportLinkQuery.safeParse(c.req.query());
  if (!id.success || !query.success) throw new DomainError(404, NO_EXPORT);
  const verdict = await checkExportLink(c.var.db, id.data, query.data.expires, query.data.signature);
  if (verdict === "expired") throw new DomainError(403, "The link has expired; ask for the export again for a new one.");
  const row = verdict === "valid" ? await c.var.db.select().from(dataExports).where(eq(dataExports.id, id.data)).get() : undefined;
  if (!row || row.status !== "ready") throw new DomainError(404, NO_EXPORT);
  const { body, length } = exportDocument(c.env.EXPORTS, row.parts as ExportPart[]);
  return c.body(body, 200, {
    "Content-Type": "application/json",
    "Content-Length": String(length),
    "Content-Disposition": `attachment; filename="hey-export-${row.createdAt.toISOString().slice(0, 10)}.json"`,
    "Cache-Control": "private, no-store",
  });
});
