import { createMiddleware } from "hono/factory";
import { database } from "../db/client";
import { formatBookmarks, parseBookmarks, ReadSessions, writeSession } from "../db/sessions";
import { shardBindings } from "../db/shards";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";

export const BOOKMARK_HEADER = "X-Hey-Bookmark";

/**
 * Puts the request's databases on `c.var`: `db`, a session that starts on the main database's primary
 * (the token check comes first and must see a revocation at once; writes always go to the primary), and
 * `reads`, read sessions at the bookmark the client presented in X-Hey-Bookmark. Every answer carries
 * the bookmarks to present next time, its own writes' included.
 */
export const withDatabase = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header(BOOKMARK_HEADER);
  const given = header === undefined ? new Map<string, string>() : parseBookmarks(header, shardBindings(c.env).length);
  if (!given) throw new DomainError(400, `${BOOKMARK_HEADER} must be a value this API sent in that header; send it back unchanged, or leave it out.`);
  const reads = new ReadSessions(c.env, given);
  const primary = writeSession("DB", c.env.DB);
  c.set("db", database(primary.session));
  c.set("reads", reads);
  await next();
  reads.wrote(primary.written());
  const bookmarks = reads.bookmarks();
  if (bookmarks.size) c.header(BOOKMARK_HEADER, formatBookmarks(bookmarks));
});
