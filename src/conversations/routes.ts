import { dispatchWebhooks, webhookEvent } from "../webhooks/events";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { secured } from "../auth/bearer";
import { openShards } from "../db/shards";
import type { AppEnv } from "../env";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { createRouter } from "../http/router";
import { Inbox } from "../realtime/inbox";
import { room } from "../realtime/room-stub";
import { settled } from "../realtime/outcome";
import { createConversation, listConversations, membership, resources } from "./conversations";
import { ConversationChangesSchema, ConversationSchema, IdParam, MAX_PARTICIPANTS, NewConversationSchema, NewParticipantSchema } from "./schemas";

const tags = ["Conversations"];
const ParticipantParams = IdParam.extend({ user_id: z.coerce.number().int().positive().openapi({ param: { name: "user_id", in: "path" } }) });
const one = (description: string) => jsonResponse(ConversationSchema, description);

const create = createRoute({
  method: "post",
  path: "/api/conversations/",
  tags,
  summary: "Start a conversation",
  operationId: "createConversation",
  description: "The caller is always a participant and the owner. Unknown or inactive user ids are a 400 that names them.",
  ...secured("manage:conversations"),
  request: { body: jsonBody(NewConversationSchema) },
  responses: { 201: one("Created."), 200: one("The existing direct conversation (reuse_direct)."), ...problems(400, 401, 403) },
});
const list = createRoute({
  method: "get",
  path: "/api/conversations/",
  tags,
  summary: "The caller's conversations, newest activity first",
  operationId: "listConversations",
  description: "Every conversation the caller takes part in, with its participants and `last_seq`, paged with `page` and `page_size`; a page past the end is 404.",
  ...secured("read:messages"),
  request: { query: PageQuery },
  responses: { 200: jsonResponse(pageOf(ConversationSchema, "ConversationPage"), "A page."), ...problems(400, 401, 403, 404) },
});
const detail = createRoute({
  method: "get",
  path: "/api/conversations/{id}/",
  tags,
  summary: "One conversation",
  operationId: "getConversation",
  description: "Only for its participants: to anyone else it is 404, as if it did not exist.",
  ...secured("read:messages"),
  request: { params: IdParam },
  responses: { 200: one("The conversation."), ...problems(401, 403, 404) },
});
const rename = createRoute({
  method: "patch",
  path: "/api/conversations/{id}/",
  tags,
  summary: "Rename, set disappearing messages, or mute for yourself",
  operationId: "renameConversation",
  description:
    "Any participant may set the title, or clear it with `null`; the owner sets `message_ttl_seconds` (disappearing messages, for " +
    "messages sent from then on: each is deleted that long after it was sent, as a tombstone that keeps its seq). Every socket open on the " +
    "conversation gets `conversation.updated`. " +
    "`muted_until` is the caller's own setting (the chat list shows it): push notifications wait for mentions until then.",
  ...secured("manage:conversations"),
  request: { params: IdParam, body: jsonBody(ConversationChangesSchema) },
  responses: { 200: one("The conversation."), ...problems(400, 401, 403, 404) },
});
const remove = createRoute({
  method: "delete",
  path: "/api/conversations/{id}/",
  tags,
  summary: "Delete the conversation (owner only)",
  operationId: "deleteConversation",
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
  operationId: "addParticipant",
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
  operationId: "removeParticipant",
  description: "An owner who leaves hands ownership to the longest member. The last participant cannot leave.",
  ...secured("manage:conversations"),
  request: { params: ParticipantParams },
  responses: { 204: { description: "Removed." }, ...problems(401, 403, 404, 409) },
});

const db = (c: Context<AppEnv>) => c.var.db;
/** Reads that may go to a replica (at the client's bookmark). */
const reads = (c: Context<AppEnv>) => c.var.reads.main;
const show = async (c: Context<AppEnv>, id: number) => (await resources(reads(c), [(await membership(reads(c), id, c.get("auth").userId)).conversation]))[0]!;
const actor = (c: Context<AppEnv>) => c.get("auth").userId;

export const conversationRoutes = createRouter()
  .openapi(create, async (c) => {
    const { conversation, created } = await createConversation(db(c), openShards(c.env), actor(c), c.req.valid("json"));
    const resource = (await resources(db(c), [conversation]))[0]!;
    if (created) {
      const chat = { conversation: resource, last_message: null, unread_count: 0, mentions: 0, muted_until: null };
      const members = resource.participants.map((p) => p.id);
      // After the answer: every member with a stream open gets the new chat, and who of the others is online;
      // webhooks whose client a member granted get the conversation.
      c.executionCtx.waitUntil(new Inbox(c.env).introduce(db(c), members, { type: "conversation.added", chat }));
      c.executionCtx.waitUntil(
        dispatchWebhooks(db(c), c.env.DELIVERIES, resource.id, members, webhookEvent("conversation.added", resource.id, 0, { conversation: resource })).catch((error: unknown) =>
          console.error("queueing webhooks failed", error),
        ),
      );
    }
    return c.json(resource, created ? 201 : 200);
  })
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const { offset, limit } = pageWindow(c, query);
    const { count, rows } = await listConversations(reads(c), actor(c), offset, limit);
    return c.json(pageResult(c, query, count, await resources(reads(c), rows)), 200);
  })
  .openapi(detail, async (c) => c.json(await show(c, c.req.valid("param").id), 200))
  .openapi(rename, async (c) => {
    const id = c.req.valid("param").id;
    const { title, muted_until, message_ttl_seconds } = c.req.valid("json");
    if (muted_until !== undefined) settled(c.var.reads, await room(c.env, id).mute(id, actor(c), muted_until === null ? null : new Date(muted_until)));
    if (title === undefined && message_ttl_seconds === undefined) return c.json(await show(c, id), 200);
    return c.json(settled(c.var.reads, await room(c.env, id).change(id, actor(c), { title, messageTtlSeconds: message_ttl_seconds })), 200);
  })
  .openapi(remove, async (c) => {
    const id = c.req.valid("param").id;
    settled(c.var.reads, await room(c.env, id).deleteConversation(id, actor(c)));
    return c.body(null, 204);
  })
  .openapi(addMember, async (c) => {
    const id = c.req.valid("param").id;
    return c.json(settled(c.var.reads, await room(c.env, id).addParticipant(id, actor(c), c.req.valid("json").user_id)), 201);
  })
  .openapi(removeMember, async (c) => {
    const { id, user_id } = c.req.valid("param");
    settled(c.var.reads, await room(c.env, id).removeParticipant(id, actor(c), user_id));
    return c.body(null, 204);
  });
