import { createRoute, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { createRouter } from "../http/router";
import { listChats } from "./chats";
import { ChatSchema } from "./schemas";

const list = createRoute({
  method: "get",
  path: "/api/chats/",
  tags: ["Chats"],
  summary: "The caller's chat history: each conversation with its last message and unread count",
  operationId: "listChats",
  description: "Newest activity first. `unread=true` keeps only conversations with unread messages.",
  ...secured("read:messages", { deferred: true }),
  request: { query: PageQuery.extend({ unread: z.enum(["true", "false"]).optional() }) },
  responses: { 200: jsonResponse(pageOf(ChatSchema, "ChatPage"), "A page of chats."), ...problems(400, 401, 403, 404) },
});

export const chatRoutes = createRouter().openapi(list, async (c) => {
  const query = c.req.valid("query");
  const { count, results } = await listChats(c.var.reads.main, c.var.token, { unreadOnly: query.unread === "true", ...pageWindow(c, query) });
  return c.json(pageResult(c, query, count, results), 200);
});
