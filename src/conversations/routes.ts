import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { secured } from "../auth/bearer";
import { config } from "../config";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { assertPageExists, pageBody, pageOf, PageQuery } from "../http/pagination";
import { validationHook } from "../http/validation";
import { room } from "../realtime/room";
import { createConversation, listConversations, membership, resources } from "./conversations";
import { addParticipant, removeParticipant, renameConversation } from "./membership";
import { ConversationChangesSchema, ConversationSchema, IdParam, MAX_PARTICIPANTS, NewConversationSchema, NewParticipantSchema } from "./schemas";

const tags = ["Conversations"];
const ParticipantParams = IdParam.extend({ user_id: z.coerce.number().int().positive().openapi({ param: { name: "user_id", in: "path" } }) });
const one = (description: string) => jsonResponse(ConversationSchema, description);

const create = createRoute({
  method: "post",
  path: "/api/conversations/",
  tags,
  summary: "Start a conversation",
  description: "The caller is always a participant and the owner. Unknown or inactive user ids are a 400 that names them.",
  ...secured("manage:conversations"),
  request: { body: jsonBody(NewConversationSchema) },
  responses: { 201: one("Created."), 200: one("The existing direct conversation (reuse_direct)."), ...problems(400, 401, 403) },
});
const list = createRoute({ method: "get", path: "/api/conversations/", tags, summary: "The caller's conversations, newest activity first", ...secured("read:messages"), request: { query: PageQuery }, responses: { 200: jsonResponse(pageOf(ConversationSchema, "ConversationPage"), "A page."), ...problems(400, 401, 403, 404) } });
const detail = createRoute({ method: "get", path: "/api/conversations/{id}/", tags, summary: "One conversation", ...secured("read:messages"), request: { params: IdParam }, responses: { 200: one("The conversation."), ...problems(401, 403, 404) } });
const rename = createRoute({ method: "patch", path: "/api/conversations/{id}/", tags, summary: "Rename", ...secured("manage:conversations"), request: { params: IdParam, body: jsonBody(ConversationChangesSchema) }, responses: { 200: one("The conversation."), ...problems(400, 401, 403, 404) } });
const remove = createRoute({
  method: "delete",
  path: "/api/conversations/{id}/",
  tags,
  summary: "Delete the conversation (owner only)",
  description: "Everyone loses it at once; its messages are deleted in chunks in the background.",
  ...secured("manage:conversations"),
  request: { params: IdParam },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404) },
});
const addMember = createRoute({
  method: "post",
  path: "/api/conversations/{id}/participants/",
  tags,
  summary: "Add a participant (owner only)",
  description: `409 if the user is already a participant, or if the conversation already has ${MAX_PARTICIPANTS} participants (the most it may have).`,
  ...secured("manage:conversations"),
  request: { params: IdParam, body: jsonBody(NewParticipantSchema) },
  responses: { 201: one("The conversation."), ...problems(400, 401, 403, 404, 409) },
});
const removeMember = createRoute({
  method: "delete",
  path: "/api/conversations/{id}/participants/{user_id}/",
  tags,
  summary: "Remove a participant (owner), or leave (anyone)",
  description: "An owner who leaves hands ownership to the longest member. The last participant cannot leave.",
  ...secured("manage:conversations"),
  request: { params: ParticipantParams },
  responses: { 204: { description: "Removed." }, ...problems(401, 403, 404, 409) },
});

const db = (c: Context<AppEnv>) => database(c.env.DB);
const show = async (c: Context<AppEnv>, id: number) => (await resources(db(c), [(await membership(db(c), id, c.get("auth").userId)).conversation]))[0]!;

export const conversationRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(create, async (c) => {
    const { conversation, created } = await createConversation(db(c), c.get("auth").userId, c.req.valid("json"));
    return c.json((await resources(db(c), [conversation]))[0]!, created ? 201 : 200);
  })
  .openapi(list, async (c) => {
    const { page, page_size } = c.req.valid("query");
    const size = page_size ?? config(c.env).DEFAULT_PAGE_SIZE;
    const { count, rows } = await listConversations(db(c), c.get("auth").userId, (page - 1) * size, size);
    assertPageExists(page, size, count);
    return c.json(pageBody(c.req.url, page, size, count, await resources(db(c), rows)), 200);
  })
  .openapi(detail, async (c) => c.json(await show(c, c.req.valid("param").id), 200))
  .openapi(rename, async (c) => {
    const id = c.req.valid("param").id;
    await renameConversation(db(c), id, c.get("auth").userId, c.req.valid("json").title);
    const conversation = await show(c, id);
    await room(c.env, id).conversationUpdated(conversation);
    return c.json(conversation, 200);
  })
  .openapi(remove, async (c) => {
    const id = c.req.valid("param").id;
    const { conversation } = await membership(db(c), id, c.get("auth").userId);
    if (conversation.ownerId !== c.get("auth").userId) throw new DomainError(403, "Only the owner deletes a conversation.");
    await room(c.env, id).purge(id);
    return c.body(null, 204);
  })
  .openapi(addMember, async (c) => {
    const id = c.req.valid("param").id;
    const userId = c.req.valid("json").user_id;
    await addParticipant(db(c), id, c.get("auth").userId, userId);
    await room(c.env, id).participantAdded(id, userId);
    return c.json(await show(c, id), 201);
  })
  .openapi(removeMember, async (c) => {
    const { id, user_id } = c.req.valid("param");
    await removeParticipant(db(c), id, c.get("auth").userId, user_id);
    // Closes the removed user's sockets in this room (4003) and tells the others.
    await room(c.env, id).participantRemoved(id, user_id);
    return c.body(null, 204);
  });
