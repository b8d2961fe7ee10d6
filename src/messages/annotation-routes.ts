// Reactions and pins: marks participants put on messages, through the conversation's room.
import { createRoute, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { DomainError } from "../errors";
import { jsonResponse, problems } from "../http/openapi";
import { createRouter } from "../http/router";
import { IdParam } from "../http/params";
import { pinMessage, reactToMessage } from "./actions";
import { normalizedEmoji } from "./emoji";
import { MAX_PINS, MAX_REACTION_EMOJI } from "./limits";
import { MessageParams, shown } from "./routes";
import { MessageSchema } from "./schemas";
import { listPins } from "./threads";

const tags = ["Messages"];
const ONE_EMOJI = "`emoji` must be exactly one emoji, such as 👍.";

const ReactionParams = MessageParams.extend({
  emoji: z
    .string()
    // One sentence whatever is wrong: the length is checked first only so a long paste skips the pattern.
    .refine((e) => e.length <= 64 && normalizedEmoji(e) !== null, ONE_EMOJI)
    .openapi({ param: { name: "emoji", in: "path" }, description: "One emoji, URL-encoded (`%F0%9F%91%8D` is 👍).", example: "👍" }),
});
const PinParams = IdParam.extend({ message_id: MessageParams.shape.message_id });

const REACT_DESCRIPTION =
  `One of each emoji per participant; doing it again changes nothing. A message takes at most ${MAX_REACTION_EMOJI} different emoji (409 beyond), ` +
  "none once deleted (409). Open sockets get `reaction.added` / `reaction.removed` with the emoji's new count; a reaction moves no " +
  "`last_seq` and no unread count. Shares the per-user `edit` limit.";

const react = (method: "put" | "delete") =>
  createRoute({
    method,
    path: "/api/conversations/{id}/messages/{message_id}/reactions/{emoji}/",
    tags,
    summary: method === "put" ? "React to a message with an emoji" : "Take back a reaction",
    operationId: method === "put" ? "addReaction" : "removeReaction",
    description: REACT_DESCRIPTION,
    ...secured("send:messages", { limit: "edit" }),
    request: { params: ReactionParams },
    responses: { 200: jsonResponse(MessageSchema, "The message with its reactions now."), ...problems(400, 401, 403, 404, 409, 429) },
  });

const pin = (method: "put" | "delete") =>
  createRoute({
    method,
    path: "/api/conversations/{id}/pins/{message_id}/",
    tags,
    summary: method === "put" ? "Pin a message" : "Unpin a message",
    operationId: method === "put" ? "pinMessage" : "unpinMessage",
    description:
      `Any participant pins and unpins; doing it again changes nothing. At most ${MAX_PINS} pins a conversation (409 beyond); a deleted ` +
      "message can't be pinned (409) and loses its pin. Open sockets get `message.pinned` / `message.unpinned`. Shares the per-user `edit` limit.",
    ...secured("send:messages", { limit: "edit" }),
    request: { params: PinParams },
    responses: { 200: jsonResponse(MessageSchema, "The message, pinned or not."), ...problems(401, 403, 404, 409, 429) },
  });

const pins = createRoute({
  method: "get",
  path: "/api/conversations/{id}/pins/",
  tags,
  summary: "A conversation's pinned messages, most recently pinned first",
  operationId: "listPins",
  description: "Any participant may ask; each message is as the caller sees it (status, reactions).",
  ...secured("read:messages"),
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.array(MessageSchema), `At most ${MAX_PINS} messages.`), ...problems(401, 403, 404) },
});

/** The emoji as stored (❤ and ❤️ are one reaction); the schema has checked it is one. */
function emojiOf(text: string): string {
  const emoji = normalizedEmoji(text);
  if (emoji === null) throw new DomainError(400, ONE_EMOJI);
  return emoji;
}

export const annotationRoutes = createRouter()
  .openapi(react("put"), async (c) => {
    const { id, message_id, emoji } = c.req.valid("param");
    return c.json(shown(c, await reactToMessage(c.env, c.var.reads, id, message_id, c.get("auth").userId, emojiOf(emoji), true)), 200);
  })
  .openapi(react("delete"), async (c) => {
    const { id, message_id, emoji } = c.req.valid("param");
    return c.json(shown(c, await reactToMessage(c.env, c.var.reads, id, message_id, c.get("auth").userId, emojiOf(emoji), false)), 200);
  })
  .openapi(pin("put"), async (c) => {
    const { id, message_id } = c.req.valid("param");
    return c.json(shown(c, await pinMessage(c.env, c.var.reads, id, message_id, c.get("auth").userId, true)), 200);
  })
  .openapi(pin("delete"), async (c) => {
    const { id, message_id } = c.req.valid("param");
    return c.json(shown(c, await pinMessage(c.env, c.var.reads, id, message_id, c.get("auth").userId, false)), 200);
  })
  .openapi(pins, async (c) => c.json((await listPins(c.var.reads, c.req.valid("param").id, c.get("auth").userId)).map((m) => shown(c, m)), 200));
