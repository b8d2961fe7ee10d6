// Signed links to attachments, for <img src> and downloads: a bearer token never goes in a URL. The ids
// asked for in one go (a page of history being shown) are fetched in one request, and a link is kept
// until shortly before it expires.
import { attachmentLinks } from "./api";

/** A link this close to its expiry is fetched again: a download started with it must not fail half-way. */
const RENEW_BEFORE_MS = 5 * 60_000;
/** The most ids POST /api/attachments/links/ takes at once. */
const BATCH = 100;

const cache = new Map<string, { url: string; expires: number }>();
let waiting = new Map<string, ((url: string | null) => void)[]>();

/** A fresh link already held, or null. */
export function cachedLink(id: string): string | null {
  const link = cache.get(id);
  if (link && link.expires - RENEW_BEFORE_MS > Date.now()) return link.url;
  cache.delete(id);
  return null;
}

/** A fresh link to attachment `id`; null when the user may not see it (or the server cannot be reached). */
export function linkTo(id: string): Promise<string | null> {
  const url = cachedLink(id);
  if (url) return Promise.resolve(url);
  return new Promise((resolve) => {
    // The first id asked for since the last request schedules the next one, after the current task.
    if (waiting.size === 0) queueMicrotask(() => void fetchWaiting());
    waiting.set(id, [...(waiting.get(id) ?? []), resolve]);
  });
}

/** Drops a link the server refused (expired while the page was open), so the next ask fetches a new one. */
export function forgetLink(id: string): void {
  cache.delete(id);
}

async function fetchWaiting(): Promise<void> {
  const batch = waiting;
  waiting = new Map();
  const ids = [...batch.keys()];
  for (let start = 0; start < ids.length; start += BATCH) {
    const chunk = ids.slice(start, start + BATCH);
    const links = await attachmentLinks(chunk).then((answer) => answer.links, () => ({}) as Record<string, never>);
    for (const id of chunk) {
      const link = links[id];
      if (link) cache.set(id, { url: link.url, expires: Date.parse(link.expires_at) });
      for (const resolve of batch.get(id)!) resolve(link?.url ?? null);
    }
  }
}
