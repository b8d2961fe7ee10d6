import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getClient } from "../auth/oauth/clients";
import { config } from "../config";
import type { WebhookRow } from "../db/schema";
import { enqueue } from "../deliveries/jobs";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { outboundUrlProblem, runsLocally } from "../http/outbound-url";
import { pageOf, PageQuery, pageResult, pageWindow } from "../http/pagination";
import { createRouter } from "../http/router";
import { webhookEvent, webhookJobs } from "./events";
import { webhookOwner } from "./owner";
import { DeliveryAttemptSchema, NewWebhookSchema, RotationSchema, WebhookChangesSchema, WebhookIdParam, WebhookSchema, WebhookWithSecretSchema } from "./schemas";
import { endpointSecret } from "./signing";
import { createEndpoint, deleteEndpoint, findEndpoint, listAttempts, listEndpoints, rotateSecret, updateEndpoint, type WebhookOwner } from "./store";

const tags = ["Webhooks"];
const NO_WEBHOOK = "No such webhook.";
const PAUSED = "Paused by its owner.";

// A staff token with `admin`, or a confidential client's own id and secret.
const security: Record<string, string[]>[] = [{ oauth2: ["admin"] }, { bearerToken: [] }, { clientCredentials: [] }];
const guarded = { security, middleware: webhookOwner };

const toResource = (w: WebhookRow) => ({
  id: w.id,
  client_id: w.clientId,
  url: w.url,
  events: w.events as z.infer<typeof WebhookSchema>["events"],
  conversations: w.conversations,
  enabled: w.disabledAt === null,
  disabled_reason: w.disabledReason,
  failing_since: w.failingSince?.toISOString() ?? null,
  previous_secret_expires_at: w.previousUntil && w.previousUntil > new Date() ? w.previousUntil.toISOString() : null,
  created_at: w.createdAt.toISOString(),
});

const withSecret = async (c: Context<AppEnv>, w: WebhookRow) => ({ ...toResource(w), secret: await endpointSecret(c.var.db, w.id, w.secretVersion) });

function checkUrl(env: Cloudflare.Env, url: string): void {
  const problem = outboundUrlProblem(url, runsLocally(config(env).APP_ORIGIN));
  if (problem) throw new DomainError(400, `The webhook URL ${problem}.`, [{ path: "url", message: `The URL ${problem}.` }]);
}

async function found(c: Context<AppEnv>, id: string): Promise<WebhookRow> {
  const row = await findEndpoint(c.var.db, c.var.webhookOwner, id);
  if (!row) throw new DomainError(404, NO_WEBHOOK);
  return row;
}

/** The client a new endpoint belongs to: the authenticated one, or the one staff name. */
async function owningClient(c: Context<AppEnv>, owner: WebhookOwner, named: string | undefined): Promise<string> {
  if ("clientId" in owner) {
    if (named !== undefined && named !== owner.clientId) throw new DomainError(403, "A client registers webhooks only for itself; leave out client_id or give your own.");
    return owner.clientId;
  }
  if (named === undefined) throw new DomainError(400, "Name the OAuth client that owns the webhook in client_id.", [{ path: "client_id", message: "Required for staff." }]);
  if (!(await getClient(c.var.db, named))) throw new DomainError(400, "No OAuth client has this client_id.", [{ path: "client_id", message: "No such client." }]);
  return named;
}

const described =
  "Staff (a token with `admin`) manage every client's webhooks; a confidential client manages its own with its id and secret as HTTP Basic. " +
  "An event is delivered when one of its conversation's participants granted the endpoint's client `read:messages`.";

const create = createRoute({
  method: "post",
  path: "/api/webhooks/",
  tags,
  summary: "Register a webhook endpoint",
  operationId: "createWebhook",
  description: `${described} The answer carries the signing secret, shown only now.`,
  ...guarded,
  request: { body: jsonBody(NewWebhookSchema) },
  responses: { 201: jsonResponse(WebhookWithSecretSchema, "The endpoint, with its secret."), ...problems(400, 401, 403) },
});

const list = createRoute({
  method: "get",
  path: "/api/webhooks/",
  tags,
  summary: "List webhook endpoints",
  operationId: "listWebhooks",
  description: `${described} Oldest first.`,
  ...guarded,
  request: { query: PageQuery.extend({ client_id: z.string().max(200).optional().openapi({ description: "Staff: only this client's." }) }) },
  responses: { 200: jsonResponse(pageOf(WebhookSchema, "WebhookPage"), "A page of endpoints."), ...problems(400, 401, 403, 404) },
});

const detail = createRoute({
  method: "get",
  path: "/api/webhooks/{id}/",
  tags,
  summary: "A webhook endpoint",
  operationId: "getWebhook",
  description: "Whether it is enabled, and why not; since when it has been failing.",
  ...guarded,
  request: { params: WebhookIdParam },
  responses: { 200: jsonResponse(WebhookSchema, "The endpoint."), ...problems(401, 403, 404) },
});

const change = createRoute({
  method: "patch",
  path: "/api/webhooks/{id}/",
  tags,
  summary: "Change a webhook endpoint",
  operationId: "updateWebhook",
  description: "Its URL, events or conversations; `enabled: true` turns on an endpoint disabled after failing (or paused), `false` pauses it.",
  ...guarded,
  request: { params: WebhookIdParam, body: jsonBody(WebhookChangesSchema) },
  responses: { 200: jsonResponse(WebhookSchema, "The endpoint."), ...problems(400, 401, 403, 404) },
});

const remove = createRoute({
  method: "delete",
  path: "/api/webhooks/{id}/",
  tags,
  summary: "Delete a webhook endpoint",
  operationId: "deleteWebhook",
  description: "Deliveries still queued for it are dropped.",
  ...guarded,
  request: { params: WebhookIdParam },
  responses: { 204: { description: "Deleted." }, ...problems(401, 403, 404) },
});

const rotate = createRoute({
  method: "post",
  path: "/api/webhooks/{id}/rotate/",
  tags,
  summary: "Rotate a webhook's signing secret",
  operationId: "rotateWebhookSecret",
  description: "A new secret, shown only now; the old one keeps signing beside it (a second `v1=` in `Hey-Signature`) for `overlap_seconds`.",
  ...guarded,
  request: { params: WebhookIdParam, body: { required: false, content: { "application/json": { schema: RotationSchema } } } },
  responses: { 200: jsonResponse(WebhookWithSecretSchema, "The endpoint, with its new secret."), ...problems(400, 401, 403, 404) },
});

const deliveries = createRoute({
  method: "get",
  path: "/api/webhooks/{id}/deliveries/",
  tags,
  summary: "A webhook's recent delivery attempts",
  operationId: "listWebhookDeliveries",
  description: "The last 100 attempts, newest first: the HTTP status (or why there was none) and how long the endpoint took.",
  ...guarded,
  request: { params: WebhookIdParam },
  responses: { 200: jsonResponse(z.object({ results: z.array(DeliveryAttemptSchema) }).openapi("WebhookDeliveries"), "The attempts."), ...problems(401, 403, 404) },
});

const test = createRoute({
  method: "post",
  path: "/api/webhooks/{id}/test/",
  tags,
  summary: "Send a test event",
  operationId: "testWebhook",
  description: "Queues a `ping` event (no conversation, no data) for this endpoint, delivered, signed and retried like any other.",
  ...guarded,
  request: { params: WebhookIdParam },
  responses: { 202: jsonResponse(z.object({ delivery_id: z.string() }).openapi("WebhookTest"), "Queued."), ...problems(401, 403, 404) },
});

export const webhookRoutes = createRouter()
  .openapi(create, async (c) => {
    const input = c.req.valid("json");
    checkUrl(c.env, input.url);
    const clientId = await owningClient(c, c.var.webhookOwner, input.client_id);
    const row = await createEndpoint(c.var.db, { clientId, url: input.url, events: input.events, conversations: input.conversations ?? null });
    return c.json(await withSecret(c, row), 201);
  })
  .openapi(list, async (c) => {
    const query = c.req.valid("query");
    const { offset, limit } = pageWindow(c, query);
    const { count, rows } = await listEndpoints(c.var.db, c.var.webhookOwner, query.client_id, offset, limit);
    return c.json(pageResult(c, query, count, rows.map(toResource)), 200);
  })
  .openapi(detail, async (c) => c.json(toResource(await found(c, c.req.valid("param").id)), 200))
  .openapi(change, async (c) => {
    const row = await found(c, c.req.valid("param").id);
    const { url, events, conversations, enabled } = c.req.valid("json");
    if (url !== undefined) checkUrl(c.env, url);
    const turned = enabled === undefined ? {} : enabled ? { disabledAt: null, disabledReason: null, failingSince: null } : row.disabledAt ? {} : { disabledAt: new Date(), disabledReason: PAUSED };
    const updated = await updateEndpoint(c.var.db, row.id, { ...(url !== undefined && { url }), ...(events && { events }), ...(conversations !== undefined && { conversations }), ...turned });
    if (!updated) throw new DomainError(404, NO_WEBHOOK);
    return c.json(toResource(updated), 200);
  })
  .openapi(remove, async (c) => {
    await deleteEndpoint(c.var.db, (await found(c, c.req.valid("param").id)).id);
    return c.body(null, 204);
  })
  .openapi(rotate, async (c) => {
    const row = await found(c, c.req.valid("param").id);
    // No body (the request's body is optional) means the default overlap.
    const overlap = (c.req.valid("json") as { overlap_seconds?: number } | undefined)?.overlap_seconds ?? RotationSchema.shape.overlap_seconds.parse(undefined);
    const rotated = await rotateSecret(c.var.db, row, new Date(Date.now() + overlap * 1000));
    return c.json(await withSecret(c, rotated), 200);
  })
  .openapi(deliveries, async (c) => {
    const row = await found(c, c.req.valid("param").id);
    const attempts = await listAttempts(c.var.db, row.id);
    return c.json(
      {
        results: attempts.map((a) => ({
          delivery_id: a.deliveryId,
          event_type: a.eventType,
          attempt: a.attempt,
          status_code: a.statusCode,
          error: a.error,
          latency_ms: a.latencyMs,
          attempted_at: a.attemptedAt.toISOString(),
        })),
      },
      200,
    );
  })
  .openapi(test, async (c) => {
    const row = await found(c, c.req.valid("param").id);
    const event = webhookEvent("ping", null, null, {});
    await enqueue(c.env.DELIVERIES, webhookJobs([row.id], [event]));
    return c.json({ delivery_id: event.id }, 202);
  });
