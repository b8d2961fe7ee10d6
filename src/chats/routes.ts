import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { config } from "../config";
import { ConversationSchema } from "../conversations/schemas";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { jsonResponse, problems } from "../http/openapi";
import { assertPageExists, pageBody, pageOf, PageQuery } from "../http/pagination";
import { validationHook } from "../http/validation";
import { MessageSchema } from "../messages/schemas";
import { listChats } from "./chats";

const ChatSchema = z
  .object({ conversation: ConversationSchema, last_message: MessageSchema.nullable(), unread_count: z.int() })
  .openapi("Chat");

const list = createRoute({
  method: "get",
  path: "/api/chats/",
  tags: ["Chats"],
  summary: "The caller's chat history: each conversation with its last message and unread count",
  description: "Newest activity first. `unread=true` keeps only conversations with unread messages.",
  ...secured("read:messages"),
  request: { query: PageQuery.extend({ unread: z.enum(["true", "false"]).optional() }) },
  responses: { 200: jsonResponse(pageOf(ChatSchema, "ChatPage"), "A page of chats."), ...problems(400, 401, 403, 404) },
});

export const chatRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(list, async (c) => {
  const { page, page_size, unread } = c.req.valid("query");
  const size = page_size ?? config(c.env).DEFAULT_PAGE_SIZE;
  const { count, results } = await listChats(database(c.env.DB), c.get("auth").userId, { unreadOnly: unread === "true", offset: (page - 1) * size, limit: size });
  assertPageExists(page, size, count);
  return c.json(pageBody(c.req.url, page, size, count, results), 200);
});
