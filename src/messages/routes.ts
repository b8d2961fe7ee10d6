import { createRoute, z } from "@hono/zod-openapi";
import { blockedSet, hideBlocked } from "./blocked";
import type { MessageResource } from "./schemas";
import type { Context } from "hono";
import { secured } from "../auth/bearer";
import { config } from "../config";
import { IdParam } from "../conversations/schemas";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery } from "../http/pagination";
import { createRouter } from "../http/router";
import { rateLimitHeaders } from "../limits/limits";
import { deleteMessage, editMessage, messageReceipts, sendMessage, updateReceipts } from "./actions";
import { listConversationMessages, visibleMessage } from "./listing";
import { listReplies } from "./threads";
import { toMessageResource } from "./resource";
import { ClientMessageIdSchema, EditSchema, MessageListQuery, MessageSchema, ReceiptInputSchema, ReceiptSchema, ReplyListQuery, SendSchema, WatermarksSchema } from "./schemas";

const tags = ["Messages"];
export const MessagePage = pageOf(MessageSchema, "MessagePage");
export const IdempotencyHeader = z.object({ "idempotency-key": ClientMessageIdSchema.optional() });
export const MessageParams = IdParam.extend({ message_id: z.coerce.number().int().positive().openapi({ param: { name: "message_id", in: "path" } }) });

/** The client's idempotency key from the body or the Idempotency-Key header (both and different → 400). */
export function idempotencyKey(bodyKey: string | undefined, headerKey: string | undefined): string | null {
  if (bodyKey && headerKey && bodyKey !== headerKey) throw new DomainError(400, "client_message_id and Idempotency-Key differ.");
  return bodyKey ?? headerKey ?? null;
}

export const SEND_DESCRIPTION =
  "Answers 201 once the message is stored, with its gap-free `seq`. A retry with the same `client_message_id` " +
  "(or `Idempotency-Key` header) returns the first message with 200, even while the first is in flight; the same key " +
  "with another body is 409. `reply_to` quotes a message of the same conversation that is not deleted (else 400); " +
  "`<@USER_ID>` in the body mentions a participant (anyone else's id stays plain text).";

export const EDIT_DESCRIPTION =
  "Only the sender may edit, and not once the message is deleted (409). The message keeps its `seq`; open sockets get " +
  "`message.updated`. Edits and deletes share the per-user `edit` limit.";

export const DELETE_DESCRIPTION =
  "The sender or the conversation's owner may delete. The message stays in order as a tombstone with an empty body, and " +
  "open sockets get `message.deleted`; deleting it again changes nothing. Edits and deletes share the per-user `edit` limit.";

const send = createRoute({
  method: "post",
  path: "/api/conversations/{id}/messages/",
  tags,
  summary: "Send a message",
  operationId: "sendMessage",
  description: SEND_DESCRIPTION,
  ...secured("send:messages", { deferred: true }),
  request: { params: IdParam, headers: IdempotencyHeader, body: jsonBody(SendSchema) },
  responses: { 201: jsonResponse(MessageSchema, "Stored."), 200: jsonResponse(MessageSchema, "A retry: the first message."), ...problems(400, 401, 403, 404, 409, 429) },
});

const list = createRoute({
  method: "get",
  path: "/api/conversations/{id}/messages/",
  tags,
  summary: "A conversation's messages, oldest first",
  operationId: "listMessages",
  description:
    "Pages (`page`, `page_size`) or cursors (`after_seq` / `before_seq` with `limit`). Unfiltered pages and cursors cost the same " +
    "at any depth. Filters (`status` as the caller sees it, `sender`, `since`) count and skip matches, so they slow down as history grows.",
  ...secured("read:messages", { deferred: true }),
  request: { params: IdParam, query: PageQuery.extend(MessageListQuery.shape) },
  responses: { 200: jsonResponse(MessagePage, "A page of messages."), ...problems(400, 401, 403, 404) },
});

const detail = createRoute({
  method: "get",
  path: "/api/conversations/{id}/messages/{message_id}/",
  tags,
  summary: "One message",
  operationId: "getMessage",
  description: "Its `status` is as the caller sees it. 404 unless the caller takes part in the conversation and the message is in it.",
  ...secured("read:messages", { deferred: true }),
  request: { params: MessageParams },
  responses: { 200: jsonResponse(MessageSchema, "The message."), ...problems(401, 403, 404) },
});

const edit = createRoute({
  method: "patch",
  path: "/api/conversations/{id}/messages/{message_id}/",
  tags,
  summary: "Edit a message (its sender only)",
  operationId: "editMessage",
  description: EDIT_DESCRIPTION,
  ...secured("send:messages", { limit: "edit" }),
  request: { params: MessageParams, body: jsonBody(EditSchema) },
  responses: { 200: jsonResponse(MessageSchema, "The edited message."), ...problems(400, 401, 403, 404, 409, 429) },
});

const remove = createRoute({
  method: "delete",
  path: "/api/conversations/{id}/messages/{message_id}/",
  tags,
  summary: "Delete a message (sender or owner); it stays in order as a tombstone",
  operationId: "deleteMessage",
  description: DELETE_DESCRIPTION,
  ...secured("send:messages", { limit: "edit" }),
  request: { params: MessageParams },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404, 429) },
});

const thread = createRoute({
  method: "get",
  path: "/api/conversations/{id}/messages/{message_id}/replies/",
  tags,
  summary: "A message's thread: its replies, oldest first",
  operationId: "listReplies",
  description:
    "Replies stay in the conversation's one `seq` order; a thread is a view of it. Pages (`page`, `page_size`) or cursors " +
    "(`after_seq` / `before_seq` with `limit`); `count` includes deleted replies, which keep their place as tombstones.",
  ...secured("read:messages"),
  request: { params: MessageParams, query: PageQuery.extend(ReplyListQuery.shape) },
  responses: { 200: jsonResponse(MessagePage, "A page of replies."), ...problems(400, 401, 403, 404) },
});

const receipts = createRoute({
  method: "get",
  path: "/api/conversations/{id}/messages/{message_id}/receipts/",
  tags,
  summary: "Delivery and read receipts of a message, per other participant",
  operationId: "listMessageReceipts",
  description: "Any participant may ask. Each participant other than the sender, with whether and when their watermarks passed the message.",
  ...secured("read:messages"),
  request: { params: MessageParams },
  responses: { 200: jsonResponse(z.array(ReceiptSchema), "One entry per participant other than the sender."), ...problems(401, 403, 404) },
});

const markReceipts = createRoute({
  method: "post",
  path: "/api/conversations/{id}/receipts/",
  tags,
  summary: "Move the caller's delivered/read watermarks forward",
  operationId: "markReceipts",
  description: "Watermarks never move back nor past the last message; reading implies delivery.",
  ...secured("read:messages", { deferred: true }),
  request: { params: IdParam, body: jsonBody(ReceiptInputSchema) },
  responses: { 200: jsonResponse(WatermarksSchema, "The caller's watermarks now."), ...problems(400, 401, 403, 404) },
});

const reads = (c: Context<AppEnv>) => c.var.reads;

/** A message, or a page of them, as the caller sees it: placeholders for people they blocked. */
export const shown = (c: Context<AppEnv>, m: MessageResource) => hideBlocked(m, blockedSet(c.get("auth")));
export const shownPage = <P extends { results: MessageResource[] }>(c: Context<AppEnv>, page: P): P => {
  const blocked = blockedSet(c.get("auth"));
  return { ...page, results: page.results.map((m) => hideBlocked(m, blocked)) };
};

export const messageRoutes = createRouter()
  .openapi(send, async (c) => {
    const body = c.req.valid("json");
    const key = idempotencyKey(body.client_message_id, c.req.valid("header")["idempotency-key"]);
    const { message, created, limit } = await sendMessage(c.env, reads(c), c.req.valid("param").id, c.var.token, { body: body.message_body, clientMessageId: key, replyTo: body.reply_to ?? null, attachments: body.attachments ?? [] });
    return c.json(shown(c, message), created ? 201 : 200, rateLimitHeaders(limit.policy, limit.decision));
  })
  .openapi(list, async (c) => {
    const page = await listConversationMessages(reads(c), c.req.valid("param").id, c.var.token, c.req.valid("query"), c.req.url, config(c.env).DEFAULT_PAGE_SIZE);
    return c.json(shownPage(c, page), 200);
  })
  .openapi(detail, async (c) => {
    const { id, message_id } = c.req.valid("param");
    const { message, view } = await visibleMessage(reads(c), id, message_id, c.var.token);
    return c.json(shown(c, toMessageResource(message, view)), 200);
  })
  .openapi(edit, async (c) => {
    const { id, message_id } = c.req.valid("param");
    return c.json(shown(c, await editMessage(c.env, reads(c), id, message_id, c.get("auth").userId, c.req.valid("json").message_body)), 200);
  })
  .openapi(remove, async (c) => {
    const { id, message_id } = c.req.valid("param");
    await deleteMessage(c.env, reads(c), id, message_id, c.get("auth").userId);
    return c.body(null, 204);
  })
  .openapi(thread, async (c) => {
    const { id, message_id } = c.req.valid("param");
    const page = await listReplies(reads(c), id, message_id, c.get("auth").userId, c.req.valid("query"), c.req.url, config(c.env).DEFAULT_PAGE_SIZE);
    return c.json(shownPage(c, page), 200);
  })
  .openapi(receipts, async (c) => {
    const { id, message_id } = c.req.valid("param");
    return c.json(await messageReceipts(reads(c), id, message_id, c.get("auth").userId), 200);
  })
  .openapi(markReceipts, async (c) => {
    const body = c.req.valid("json");
    return c.json(await updateReceipts(c.env, reads(c), c.req.valid("param").id, c.var.token, body.delivered_up_to, body.read_up_to), 200);
  });
