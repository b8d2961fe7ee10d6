import { getPath } from "hono/utils/url";

/**
 * The path Hey routes on. API and OAuth paths are canonical with a trailing slash, as in the
 * original Django API, but clients POST to both forms, so the slash is added rather than redirected to.
 */
export function canonicalPath(request: Request): string {
  const path = getPath(request);
  return (path.startsWith("/api/") || path.startsWith("/o/")) && !path.endsWith("/") ? `${path}/` : path;
}
