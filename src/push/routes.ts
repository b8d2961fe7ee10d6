import { createRoute, z } from "@hono/zod-openapi";
import { secured } from "../auth/bearer";
import { config } from "../config";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { outboundUrlProblem, runsLocally } from "../http/outbound-url";
import { createRouter } from "../http/router";
import { NewPushSubscriptionSchema, PushKeySchema, PushSubscriptionSchema, SubscriptionIdParam } from "./schemas";
import { deleteSubscription, listSubscriptions, saveSubscription } from "./subscriptions";
import { vapidKeys } from "./vapid";

const tags = ["Push notifications"];
const NOT_CONFIGURED = "Push notifications are not configured on this server (it has no VAPID keys).";

const key = createRoute({
  method: "get",
  path: "/api/push/key/",
  tags,
  summary: "The server's push key",
  operationId: "getPushKey",
  description: "The VAPID public key a browser subscribes with. 503 when the server has none.",
  security: [],
  responses: { 200: jsonResponse(PushKeySchema, "The key."), ...problems(503) },
});

const subscribe = createRoute({
  method: "post",
  path: "/api/push/subscriptions/",
  tags,
  summary: "Register a browser for push notifications",
  operationId: "createPushSubscription",
  description:
    "The body is the browser's `PushSubscription.toJSON()`. A message then notifies this user when they have no socket or stream open, " +
    "unless they muted its conversation (`muted_until`) and it does not mention them. 200 when this user had registered the endpoint already.",
  ...secured("read:messages"),
  request: { body: jsonBody(NewPushSubscriptionSchema) },
  responses: { 200: jsonResponse(PushSubscriptionSchema, "Already registered."), 201: jsonResponse(PushSubscriptionSchema, "Registered."), ...problems(400, 401, 403, 503) },
});

const list = createRoute({
  method: "get",
  path: "/api/push/subscriptions/",
  tags,
  summary: "The caller's push subscriptions",
  operationId: "listPushSubscriptions",
  description: "One per browser the caller enabled notifications in, newest first.",
  ...secured("read:messages"),
  responses: { 200: jsonResponse(z.object({ results: z.array(PushSubscriptionSchema) }).openapi("PushSubscriptions"), "The subscriptions."), ...problems(401, 403) },
});

const remove = createRoute({
  method: "delete",
  path: "/api/push/subscriptions/{id}/",
  tags,
  summary: "Stop push notifications to a browser",
  operationId: "deletePushSubscription",
  description: "A subscription the push service reports gone (404 or 410) is deleted too.",
  ...secured("read:messages"),
  request: { params: SubscriptionIdParam },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404) },
});

const toResource = (s: { id: string; endpoint: string; createdAt: Date }) => ({ id: s.id, endpoint: s.endpoint, created_at: s.createdAt.toISOString() });

export const pushRoutes = createRouter()
  .openapi(key, (c) => {
    const keys = vapidKeys(c.env);
    if (!keys) throw new DomainError(503, NOT_CONFIGURED);
    return c.json({ public_key: keys.publicKey }, 200);
  })
  .openapi(subscribe, async (c) => {
    const { endpoint, keys } = c.req.valid("json");
    if (!vapidKeys(c.env)) throw new DomainError(503, NOT_CONFIGURED);
    const problem = outboundUrlProblem(endpoint, runsLocally(config(c.env).APP_ORIGIN));
    if (problem) throw new DomainError(400, `The push endpoint ${problem}.`, [{ path: "endpoint", message: `The URL ${problem}.` }]);
    const { row, created } = await saveSubscription(c.var.db, c.get("auth").userId, { endpoint, p256dh: keys.p256dh, auth: keys.auth });
    return created ? c.json(toResource(row), 201) : c.json(toResource(row), 200);
  })
  .openapi(list, async (c) => c.json({ results: (await listSubscriptions(c.var.db, c.get("auth").userId)).map(toResource) }, 200))
  .openapi(remove, async (c) => {
    if (!(await deleteSubscription(c.var.db, c.get("auth").userId, c.req.valid("param").id))) throw new DomainError(404, "No such push subscription.");
    return c.body(null, 204);
  });
