import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { eq } from "drizzle-orm";
import { requireScope, secured } from "../auth/bearer";
import type { AuthContext } from "../http/auth-context";
import type { AppEnv } from "../env";
import { randomToken } from "../auth/secrets";
import { config } from "../config";
import { member, membershipQuery } from "../conversations/conversations";
import { batch } from "../db/compiled";
import { attachments } from "../db/schema";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { IdParam } from "../http/params";
import { createRouter } from "../http/router";
import { download } from "./download";
import { checkLink, signedLink } from "./links";
import { toAttachmentResource } from "./resource";
import { AttachmentId, AttachmentSchema, FileNameSchema, LinksRequest, LinksSchema } from "./schemas";
import { imageSize, storedType } from "./sniff";
import { stored, storedBytes, visibleAmong, visibleAttachment } from "./store";
import { streamToBucket } from "./upload";

const tags = ["Attachments"];
const LinkQuery = z.object({ expires: z.coerce.number().int().min(0).optional(), signature: z.string().max(128).optional() });
const NO_ATTACHMENT = "No such attachment.";

/** A signed link needs no token; anything else is a bearer request for read:messages. */
const bearerUnlessSigned = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("Authorization") && c.req.query("signature") !== undefined) return next();
  return requireScope("read:messages")(c, next);
});

const upload = createRoute({
  method: "post",
  path: "/api/conversations/{id}/attachments/",
  tags,
  summary: "Upload a file to attach to a message",
  operationId: "uploadAttachment",
  description:
    "The body is the file's bytes (not multipart), with `Content-Length` and its `Content-Type`; `name` is its file name. It is streamed into " +
    "storage, never held whole. PNG, JPEG, GIF, WebP, PDF, plain text, MP3, Ogg, WAV, MP4 and WebM keep their type when the bytes carry " +
    "its signature; anything else is stored as application/octet-stream and always downloaded. Past `MAX_ATTACHMENT_BYTES` (25 MiB), or " +
    "past the uploader's `ATTACHMENT_QUOTA_BYTES` in all, 413. Send it with a message (`attachments`) within the hour, or it is deleted.",
  ...secured("send:messages"),
  request: {
    params: IdParam,
    query: z.object({ name: FileNameSchema }),
    body: { required: true, content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
  },
  responses: { 201: jsonResponse(AttachmentSchema, "Stored."), ...problems(400, 401, 403, 404, 413) },
});

const fetchOne = createRoute({
  method: "get",
  path: "/api/attachments/{attachment_id}/",
  tags,
  summary: "Download an attachment",
  operationId: "getAttachment",
  description:
    "With a bearer token (a participant of its conversation) or a signed link from `POST /api/attachments/links/` (`expires` and `signature`); " +
    "404 for anyone else. `ETag` is the SHA-256; `If-None-Match` gives 304 and `Range` 206. Images are inline, everything else a download, " +
    "always with `nosniff` and a sandboxing CSP, so an uploaded page or script never runs as this origin.",
  // A bearer token, or none with a signed link.
  security: [{ oauth2: ["read:messages"] }, { bearerToken: [] }, {}],
  request: {
    params: z.object({ attachment_id: AttachmentId.openapi({ param: { name: "attachment_id", in: "path" } }) }),
    query: LinkQuery,
  },
  responses: {
    200: { description: "The bytes.", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    206: { description: "The requested range.", content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    304: { description: "Not modified: the ETag matched." },
    ...problems(401, 403, 404),
  },
});

const links = createRoute({
  method: "post",
  path: "/api/attachments/links/",
  tags,
  summary: "Signed links to attachments, for browsers",
  operationId: "linkAttachments",
  description: "Each link works without a token for an hour: put it in an `<img src>` or a download link. Ids the caller cannot see are left out.",
  ...secured("read:messages"),
  request: { body: jsonBody(LinksRequest) },
  responses: { 200: jsonResponse(LinksSchema, "The links."), ...problems(400, 401, 403) },
});

export const attachmentRoutes = createRouter()
  .openapi(upload, async (c) => {
    const conversationId = c.req.valid("param").id;
    const { name } = c.req.valid("query");
    const userId = c.get("auth").userId;
    const settings = config(c.env);
    const lengthHeader = c.req.header("Content-Length");
    if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) throw new DomainError(411, "Send the file with a Content-Length.");
    const length = Number(lengthHeader);
    if (length === 0) throw new DomainError(400, "The file is empty.");
    if (length > settings.MAX_ATTACHMENT_BYTES) throw new DomainError(413, `A file is at most ${settings.MAX_ATTACHMENT_BYTES} bytes; this one is ${length}.`);
    const db = c.var.db;
    const [membership, [used]] = await batch(db, [membershipQuery(db, conversationId, userId), storedBytes(db, userId)]);
    member(membership);
    if ((used?.bytes ?? 0) + length > settings.ATTACHMENT_QUOTA_BYTES) {
      throw new DomainError(413, `Your attachments would take more than your ${settings.ATTACHMENT_QUOTA_BYTES} bytes; delete some messages with files first.`);
    }
    const id = randomToken();
    const body = c.req.raw.body;
    if (!body) throw new DomainError(400, "The file is empty.");
    const { head, sha256 } = await streamToBucket(c.env.ATTACHMENTS, id, body, length).catch((error: unknown) => {
      console.error("upload failed", error);
      throw new DomainError(400, `The body did not hold the ${length} bytes its Content-Length announced.`);
    });
    const contentType = storedType(c.req.header("Content-Type"), head, head.length === length);
    const size = imageSize(contentType, head);
    const [row] = await db
      .insert(attachments)
      .values({ id, uploaderId: userId, conversationId, name, contentType, size: length, sha256, width: size?.width ?? null, height: size?.height ?? null, createdAt: new Date() })
      .returning();
    return c.json(toAttachmentResource(stored(row!)), 201);
  })
  .openapi(links, async (c) => {
    const db = c.var.db;
    const visible = await visibleAmong(db, c.req.valid("json").ids, c.get("auth").userId);
    const now = Date.now();
    return c.json({ links: Object.fromEntries(await Promise.all(visible.map(async ({ id }) => [id, await signedLink(db, id, now)] as const))) }, 200);
  });

// Registered by hand: a signed link needs no token, so this route's authentication is its own.
attachmentRoutes.openAPIRegistry.registerPath(fetchOne);
attachmentRoutes.get("/api/attachments/:attachment_id/", bearerUnlessSigned, async (c) => {
  const id = AttachmentId.safeParse(c.req.param("attachment_id"));
  const query = LinkQuery.safeParse(c.req.query());
  if (!id.success || !query.success) throw new DomainError(404, NO_ATTACHMENT);
  const { expires, signature } = query.data;
  const db = c.var.db;
  const auth = c.get("auth") as AuthContext | undefined;
  let row;
  if (auth) row = await visibleAttachment(db, id.data, auth.userId);
  else {
    const verdict = expires === undefined || signature === undefined ? "invalid" : await checkLink(db, id.data, expires, signature);
    if (verdict === "expired") throw new DomainError(403, "The link has expired; ask for a new one.");
    row = verdict === "valid" ? (await db.select().from(attachments).where(eq(attachments.id, id.data)))[0] : undefined;
  }
  if (!row) throw new DomainError(404, NO_ATTACHMENT);
  return download(c.env.ATTACHMENTS, row, c.req);
});
