import { createRoute } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { jsonResponse, problems } from "../http/openapi";
import { shardBindings } from "../db/shards";
import { createRouter } from "../http/router";
import { SearchQuery, SearchResultsSchema } from "./schemas";
import { searchMessages } from "./search";

const search = createRoute({
  method: "get",
  path: "/api/search/messages/",
  tags: ["Messages"],
  summary: "Search the caller's messages",
  operationId: "searchMessages",
  description:
    "Full-text search over every conversation the caller takes part in now (or one, with `conversation`). Every word must match; " +
    "the last also as a prefix. Case and accents don't matter. Deleted messages never match; an edit is found by its new words. " +
    "Newest first (as stored), or by rank (BM25) among the newest 10,000 matches of each message shard; follow `next` for more.",
  ...secured("read:messages"),
  request: { query: SearchQuery },
  responses: { 200: jsonResponse(SearchResultsSchema, "A page of matches."), ...problems(400, 401, 403, 404) },
});

export const searchRoutes = createRouter().openapi(search, async (c) => c.json(await searchMessages(c.var.reads, c.get("auth").userId, c.req.valid("query"), c.req.url, shardBindings(c.env).length, c.get("auth").blocked), 200));
