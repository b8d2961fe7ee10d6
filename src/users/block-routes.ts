import { createRoute, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { createRouter } from "../http/router";
import { room } from "../realtime/room-stub";
import { blockUser, listBlocks, sharedConversations, unblockUser } from "./blocks";

const tags = ["Users"];

const BlockSchema = z
  .object({
    user: z.object({ id: z.int(), first_name: z.string(), last_name: z.string() }),
    created_at: z.iso.datetime(),
  })
  .openapi("Block");

const EFFECT =
  "A blocked user can't start a conversation with you or add you to one, and in groups you share their messages reach you " +
  "(lists, sockets, streams, search, the chat list) as placeholders with `blocked: true` and no body, so seqs stay gap-free; " +
  "they get no push notification to you. They are not told.";

const list = createRoute({
  method: "get",
  path: "/api/users/me/blocks/",
  tags,
  summary: "The people you blocked",
  operationId: "listBlocks",
  description: `Newest first. ${EFFECT}`,
  ...secured("profile"),
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(BlockSchema, "BlockPage"), "A page of blocks."), ...problems(400, 401, 403, 404) },
});

const add = createRoute({
  method: "post",
  path: "/api/users/me/blocks/",
  tags,
  summary: "Block someone",
  operationId: "blockUser",
  description: `201, or 200 when already blocked. ${EFFECT}`,
  ...secured("profile"),
  request: { body: jsonBody(z.object({ user_id: z.int().positive() }).strict().openapi("NewBlock")) },
  responses: { 200: jsonResponse(BlockSchema, "Already blocked."), 201: jsonResponse(BlockSchema, "Blocked."), ...problems(400, 401, 403, 404) },
});

const remove = createRoute({
  method: "delete",
  path: "/api/users/me/blocks/{user_id}/",
  tags,
  summary: "Unblock someone",
  operationId: "unblockUser",
  description: "Their messages show again, old ones included.",
  ...secured("profile"),
  request: { params: z.object({ user_id: z.coerce.number().int().positive().openapi({ param: { name: "user_id", in: "path" } }) }) },
  responses: { 204: { description: "Unblocked." }, ...problems(401, 403, 404) },
});

/** Tells the rooms the two share (after the answer): their sockets show the change from the next event on. */
async function tellRooms(env: Cloudflare.Env, db: Parameters<typeof sharedConversations>[0], blocker: number, blocked: number, on: boolean) {
  for (const id of await sharedConversations(db, blocker, blocked)) await room(env, id).blocksChanged(id, blocker, blocked, on);
}

export const blockRoutes = createRouter()
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const { offset, limit } = pageWindow(c, query);
    const { count, rows } = await listBlocks(c.var.db, c.get("auth").userId, offset, limit);
    const results = rows.map((r) => ({ user: { id: r.id, first_name: r.firstName, last_name: r.lastName }, created_at: r.createdAt.toISOString() }));
    return c.json(pageResult(c, query, count, results), 200);
  })
  .openapi(add, async (c) => {
    const me = c.get("auth").userId;
    const { user, createdAt, created } = await blockUser(c.var.db, me, c.req.valid("json").user_id);
    if (created) c.executionCtx.waitUntil(tellRooms(c.env, c.var.db, me, user.id, true).catch((error: unknown) => console.error("telling rooms of a block failed", error)));
    const body = { user: { id: user.id, first_name: user.firstName, last_name: user.lastName }, created_at: createdAt.toISOString() };
    return created ? c.json(body, 201) : c.json(body, 200);
  })
  .openapi(remove, async (c) => {
    const me = c.get("auth").userId;
    const other = c.req.valid("param").user_id;
    if (!(await unblockUser(c.var.db, me, other))) throw new DomainError(404, "You have not blocked this user.");
    c.executionCtx.waitUntil(tellRooms(c.env, c.var.db, me, other, false).catch((error: unknown) => console.error("telling rooms of an unblock failed", error)));
    return c.body(null, 204);
  });
