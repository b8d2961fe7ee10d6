// The original Django API's flat message routes: the same behaviour as the nested ones.
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { secured } from "../auth/bearer";
import { config } from "../config";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { PageQuery } from "../http/pagination";
import { createRouter } from "../http/router";
import { rateLimitHeaders } from "../limits/limits";
import { shardBindings, shardOfMessage } from "../db/shards";
import { deleteMessage, editMessage, sendMessage } from "./actions";
import { listAllMessages, listConversationMessages, visibleMessage } from "./listing";
import { toMessageResource } from "./resource";
import { DELETE_DESCRIPTION, EDIT_DESCRIPTION, IdempotencyHeader, idempotencyKey, MessagePage, SEND_DESCRIPTION, shown, shownPage } from "./routes";
import { EditSchema, FlatSendSchema, MessageListQuery, MessageSchema } from "./schemas";
import { conversationOfMessage } from "./store";

const tags = ["Messages"];
const MessageParam = z.object({ message_id: z.coerce.number().int().positive().openapi({ param: { name: "message_id", in: "path" } }) });

const send = createRoute({
  method: "post",
  path: "/api/messages/",
  tags,
  summary: "Send a message (original flat form)",
  operationId: "sendMessageFlat",
  description: SEND_DESCRIPTION,
  ...secured("send:messages", { deferred: true }),
  request: { headers: IdempotencyHeader, body: jsonBody(FlatSendSchema) },
  responses: { 201: jsonResponse(MessageSchema, "Stored."), 200: jsonResponse(MessageSchema, "A retry: the first message."), ...problems(400, 401, 403, 404, 409, 429) },
});

const list = createRoute({
  method: "get",
  path: "/api/messages/",
  tags,
  summary: "Messages of one conversation (`?conversation=`) or of all the caller's, newest first",
  operationId: "listMessagesFlat",
  description:
    "With `conversation`, as the nested list. Without it, every conversation of the caller's, newest first (by `sent_at`, then `id`): " +
    "by page, or from a `before` cursor (each page's `next` link carries it), which stays right while new messages arrive. " +
    "No filters; slower as history grows.",
  ...secured("read:messages"),
  request: {
    query: PageQuery.extend(MessageListQuery.shape).extend({
      conversation: z.coerce.number().int().positive().optional(),
      before: z
        .string()
        .regex(/^\d{1,15}\.\d{1,16}$/, "Expected a cursor from a `next` link of this list.")
        .optional()
        .openapi({ description: "Without `conversation`: the messages after this position (from a `next` link), newest first." }),
    }),
  },
  responses: { 200: jsonResponse(MessagePage, "A page of messages."), ...problems(400, 401, 403, 404) },
});

const detail = createRoute({
  method: "get",
  path: "/api/messages/{message_id}/",
  tags,
  summary: "One message",
  operationId: "getMessageFlat",
  description: "The original API's form of `getMessage`. 404 unless the caller takes part in the message's conversation.",
  ...secured("read:messages"),
  request: { params: MessageParam },
  responses: { 200: jsonResponse(MessageSchema, "The message."), ...problems(401, 403, 404) },
});
const edit = createRoute({
  method: "patch",
  path: "/api/messages/{message_id}/",
  tags,
  summary: "Edit a message (its sender only)",
  operationId: "editMessageFlat",
  description: `The original API's form of \`editMessage\`. ${EDIT_DESCRIPTION}`,
  ...secured("send:messages", { limit: "edit" }),
  request: { params: MessageParam, body: jsonBody(EditSchema) },
  responses: { 200: jsonResponse(MessageSchema, "The edited message."), ...problems(400, 401, 403, 404, 409, 429) },
});
const remove = createRoute({
  method: "delete",
  path: "/api/messages/{message_id}/",
  tags,
  summary: "Delete a message as a tombstone (sender or owner)",
  operationId: "deleteMessageFlat",
  description: `The original API's form of \`deleteMessage\`. ${DELETE_DESCRIPTION}`,
  ...secured("send:messages", { limit: "edit" }),
  request: { params: MessageParam },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404, 429) },
});

const reads = (c: Context<AppEnv>) => c.var.reads;

/** The conversation of a message (its id names its shard); 404 when there is no such message. */
async function conversationOf(c: Context<AppEnv>, messageId: number): Promise<number> {
  const shard = shardOfMessage(messageId);
  const id = shard < shardBindings(c.env).length ? await conversationOfMessage(reads(c).shard(shard), messageId) : undefined;
  if (id === undefined) throw new DomainError(404, "No such message.");
  return id;
}

export const flatMessageRoutes = createRouter()
  .openapi(send, async (c) => {
    const body = c.req.valid("json");
    const key = idempotencyKey(body.client_message_id, c.req.valid("header")["idempotency-key"]);
    const { message, created, limit } = await sendMessage(c.env, reads(c), body.conversation, c.var.token, { body: body.message_body, clientMessageId: key, replyTo: body.reply_to ?? null, attachments: body.attachments ?? [] });
    return c.json(shown(c, message), created ? 201 : 200, rateLimitHeaders(limit.policy, limit.decision));
  })
  .openapi(list, async (c) => {
    const { conversation: conversationId, before, ...q } = c.req.valid("query");
    const userId = c.get("auth").userId;
    const pageSize = config(c.env).DEFAULT_PAGE_SIZE;
    if (conversationId !== undefined) {
      if (before !== undefined) throw new DomainError(400, "With ?conversation=, page with after_seq or before_seq; before is for the list across conversations.");
      return c.json(shownPage(c, await listConversationMessages(reads(c), conversationId, userId, q, c.req.url, pageSize)), 200);
    }
    if (q.after_seq !== undefined || q.before_seq !== undefined || q.status || q.sender || q.since) {
      throw new DomainError(400, "Cursors and filters need ?conversation=.");
    }
    if (before !== undefined && q.page > 1) throw new DomainError(400, "Use page or before, not both.");
    return c.json(shownPage(c, await listAllMessages(reads(c), userId, { page: q.page, size: q.page_size ?? pageSize, before }, c.req.url)), 200);
  })
  .openapi(detail, async (c) => {
    const messageId = c.req.valid("param").message_id;
    const conversationId = await conversationOf(c, messageId);
    const { message, view } = await visibleMessage(reads(c), conversationId, messageId, c.get("auth").userId);
    return c.json(shown(c, toMessageResource(message, view)), 200);
  })
  .openapi(edit, async (c) => {
    const messageId = c.req.valid("param").message_id;
    const conversationId = await conversationOf(c, messageId);
    return c.json(shown(c, await editMessage(c.env, reads(c), conversationId, messageId, c.get("auth").userId, c.req.valid("json").message_body)), 200);
  })
  .openapi(remove, async (c) => {
    const messageId = c.req.valid("param").message_id;
    await deleteMessage(c.env, reads(c), await conversationOf(c, messageId), messageId, c.get("auth").userId);
    return c.body(null, 204);
  });
