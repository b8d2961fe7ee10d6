import { createMiddleware } from "hono/factory";
import { database } from "../db/client";
import { formatBookmarks, parseBookmarks, ReadSessions } from "../db/sessions";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";

export const BOOKMARK_HEADER = "X-Hey-Bookmark";

/**
 * Puts the request's databases on `c.var`: `db`, the main database's primary (writes and token checks,
 * which must see a revocation at once), and `reads`, read sessions at the bookmark the client presented
 * in X-Hey-Bookmark. Every answer carries the bookmarks to present next time.
 */
export const withDatabase = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header(BOOKMARK_HEADER);
  const given = header === undefined ? new Map<string, string>() : parseBookmarks(header);
  if (!given) throw new DomainError(400, `${BOOKMARK_HEADER} must be a value this API sent in that header; send it back unchanged, or leave it out.`);
  const reads = new ReadSessions(c.env, given);
  c.set("db", database(c.env.DB));
  c.set("reads", reads);
  await next();
  const bookmarks = reads.bookmarks();
  if (bookmarks.size) c.header(BOOKMARK_HEADER, formatBookmarks(bookmarks));
});
