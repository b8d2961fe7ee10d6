import { createMiddleware } from "hono/factory";
import { requireScope } from "../auth/bearer";
import { authenticateClient } from "../auth/oauth/clients";
import type { AppEnv } from "../env";
import { problemResponse } from "../http/problem";

/**
 * A confidential client's own credentials (HTTP Basic, as at the token endpoint), or a staff user's token
 * with the `admin` scope. A client manages only its own endpoints.
 */
export const webhookOwner = createMiddleware<AppEnv>(async (c, next) => {
  if (!/^basic /i.test(c.req.header("Authorization") ?? "")) {
    return requireScope("admin")(c, async () => {
      c.set("webhookOwner", { admin: true });
      await next();
    });
  }
  const { client } = await authenticateClient(c.var.db, c.req.header("Authorization"), {});
  if (!client?.confidential) {
    return problemResponse(401, "Client authentication failed: send a confidential client's id and secret with HTTP Basic, or a staff token with the admin scope.", {
      headers: { "WWW-Authenticate": 'Basic realm="hey"' },
    });
  }
  c.set("webhookOwner", { clientId: client.id });
  await next();
});
