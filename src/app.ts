import { OpenAPIHono, z } from "@hono/zod-openapi";
import { secureHeaders } from "hono/secure-headers";
import { authorizeRoutes } from "./auth/oauth/authorize";
import { oauthBodyLimit } from "./auth/oauth/body-limit";
import { logoutRoutes } from "./auth/oauth/logout";
import { resetPageRoutes } from "./auth/oauth/reset-pages";
import { issuerRequired } from "./auth/oauth/issuer";
import { clientRoutes } from "./auth/oauth/client-routes";
import { metadataRoutes } from "./auth/oauth/metadata";
import { registerRoutes } from "./auth/oauth/register";
import { revokeRoutes } from "./auth/oauth/revoke";
import { tokenRoutes } from "./auth/oauth/token";
import { onRevoked } from "./auth/revocation";
import { SCOPES } from "./auth/scopes";
import { chatRoutes } from "./chats/routes";
import { conversationRoutes } from "./conversations/routes";
import { docsRoutes } from "./docs/routes";
import { attachmentRoutes } from "./attachments/routes";
import { annotationRoutes } from "./messages/annotation-routes";
import { flatMessageRoutes } from "./messages/flat-routes";
import { messageRoutes } from "./messages/routes";
import type { AppEnv } from "./env";
import { jsonBodies } from "./http/body";
import { configured } from "./http/configured";
import { withDatabase } from "./http/database";
import { methodsAllowed, notFound, onError } from "./http/errors";
import { canonicalPath, trailingSlashRedirect } from "./http/paths";
import { validationHook } from "./http/validation";
import { disconnectEverywhere } from "./realtime/disconnect";
import { realtimeRoutes } from "./realtime/routes";
import { rootRoutes } from "./root/routes";
import { searchRoutes } from "./search/routes";
import { userRoutes } from "./users/routes";
import { accountRoutes } from "./accounts/routes";
import { blockRoutes } from "./users/block-routes";
import { pushRoutes } from "./push/routes";
import { moderationRoutes } from "./moderation/routes";
import { webhookRoutes } from "./webhooks/routes";
import { WebhookEventSchema } from "./webhooks/schemas";
import { webRoutes } from "./web/routes";

/** Builds the whole Hey app; the Worker entry and every test use this one function. */
export function createApp() {
  onRevoked(disconnectEverywhere);
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, getPath: canonicalPath });
  app.use(configured);
  app.use(secureHeaders({ xFrameOptions: "DENY" }));
  // After secureHeaders, which adds its headers once the rest has answered, so the 405 gets them too.
  app.use(methodsAllowed(app));
  app.use(trailingSlashRedirect(app));
  // Before every API route, so route middleware such as secured() finds c.var.db too (the OAuth routes
  // open their own; /openapi.json, the docs and the app need no database).
  app.use("/api/*", withDatabase, jsonBodies);
  app.use("/o/*", issuerRequired, oauthBodyLimit);
  app.use("/.well-known/*", issuerRequired);

  const routes = app
    .get("/healthz", (c) => c.json({ ok: true }))
    .route("/", rootRoutes)
    .route("/", blockRoutes)
    .route("/", accountRoutes)
    .route("/", userRoutes)
    .route("/", conversationRoutes)
    .route("/", messageRoutes)
    .route("/", annotationRoutes)
    .route("/", attachmentRoutes)
    .route("/", flatMessageRoutes)
    .route("/", chatRoutes)
    .route("/", searchRoutes)
    .route("/", realtimeRoutes)
    .route("/", webhookRoutes)
    .route("/", pushRoutes)
    .route("/", moderationRoutes)
    .route("/", clientRoutes)
    .route("/", authorizeRoutes)
    .route("/", logoutRoutes)
    .route("/", resetPageRoutes)
    .route("/", tokenRoutes)
    .route("/", revokeRoutes)
    .route("/", registerRoutes)
    .route("/", metadataRoutes)
    .route("/", docsRoutes);

  app.route("/", webRoutes);
  app.openAPIRegistry.registerComponent("securitySchemes", "oauth2", {
    type: "oauth2",
    description: "OAuth 2.1 authorization code with PKCE (S256). Send the access token as `Authorization: Bearer`.",
    // Relative: Swagger UI resolves them against the server URL, the origin /openapi.json was fetched from.
    flows: { authorizationCode: { authorizationUrl: "/o/authorize/", tokenUrl: "/o/token/", refreshUrl: "/o/token/", scopes: { ...SCOPES } } },
  });
  // The same access token, pasted (from `npm run token`, say) rather than obtained through the flow above.
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerToken", {
    type: "http",
    scheme: "bearer",
    description: "An access token issued by Hey's OAuth server, pasted as is; the route's scope still applies.",
  });
  // Webhook endpoints also take a confidential client's own credentials, as the token endpoint does.
  app.openAPIRegistry.registerComponent("securitySchemes", "clientCredentials", {
    type: "http",
    scheme: "basic",
    description: "A confidential OAuth client's client_id and client_secret (RFC 6749 §2.3.1): for its own webhooks.",
  });
  app.openAPIRegistry.registerWebhook({
    method: "post",
    path: "heyEvent",
    tags: ["Webhooks"],
    summary: "An event, delivered to a registered endpoint",
    operationId: "receiveWebhookEvent",
    description:
      "Signed: `Hey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.raw body\" keyed with the endpoint's secret>` (a second `v1` during a rotation). " +
      "Reject a `t` older than 5 minutes. Answer 2xx within 10 s; anything else is retried with backoff for 24 hours. At least once: deduplicate by `id`.",
    request: {
      headers: z.object({
        "Hey-Webhook-Id": z.string(),
        "Hey-Attempt": z.string().openapi({ description: "1, 2, …" }),
        "Hey-Signature": z.string(),
      }),
      body: { required: true, content: { "application/json": { schema: WebhookEventSchema } } },
    },
    responses: { 200: { description: "Any 2xx: delivered." } },
  });
  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Hey",
      version: "1.0.0",
      description:
        "Edge-hosted messaging API. Paths end with a slash; the same path without it is served too. " +
        "Errors are application/problem+json (RFC 9457); OAuth endpoints answer RFC 6749 JSON. " +
        "Every `/api/` response carries `X-Hey-Bookmark`; send the last one back on the next request to read your own writes " +
        "when reads are served by D1 read replicas (a value the API did not send is a 400).",
      contact: { name: "Hey", url: `${new URL(c.req.url).origin}/docs` },
    },
    servers: [{ url: new URL(c.req.url).origin }],
    tags: [
      { name: "API root", description: "Links to the resources, the docs and the web app: where a client that knows only the address starts." },
      { name: "Users", description: "Sign-up, the signed-in user's profile, and the people the caller may see." },
      { name: "Conversations", description: "Conversations and their participants; the owner adds people, anyone may leave." },
      { name: "Messages", description: "Sending, listing, editing and deleting messages, and delivery and read receipts. The `Flat` operations are the original API's `/api/messages/` routes." },
      { name: "Attachments", description: "Files in messages: upload, then send with `attachments`; download with a token or a signed link." },
      { name: "Chats", description: "The chat list: each conversation with its last message and unread count." },
      { name: "Realtime", description: "WebSockets per conversation, and the one-time tickets browsers open them with." },
      { name: "Webhooks", description: "Signed HTTP callbacks for an OAuth client's integrations, delivered through a queue with retries: at least once, ordered by `seq` per conversation." },
      { name: "Push notifications", description: "Web Push to browsers with no socket or stream open: register a subscription, mute a conversation, hide previews." },
      { name: "Moderation", description: "Participants report messages; staff review the queue, dismiss, delete the message or deactivate its sender, and every decision is logged." },
      { name: "OAuth", description: "The OAuth 2.1 authorization server: sign-in and consent pages, tokens, revocation, introspection, registration." },
      { name: "OAuth clients (staff)", description: "Administrators register, list and delete OAuth clients." },
    ],
  }));
  app.notFound(notFound);
  app.onError(onError);
  return routes;
}

export type AppType = ReturnType<typeof createApp>;
