import { z } from "@hono/zod-openapi";
import { MessageSchema } from "../messages/schemas";

export const MAX_SEARCH_LIMIT = 50;

export const SearchQuery = z.object({
  q: z
    .string()
    .max(500)
    .openapi({ description: "Words to find (all of them; the last also as a prefix unless a space follows it, which is faster for a common word). Punctuation and operators are only text." }),
  conversation: z.coerce.number().int().positive().optional().openapi({ description: "Search one conversation (404 unless the caller takes part in it)." }),
  order: z.enum(["newest", "rank"]).default("newest").openapi({ description: "`newest` first (default) or best match first (`rank`, BM25)." }),
  limit: z.coerce.number().int().min(1).max(MAX_SEARCH_LIMIT).default(20),
  cursor: z.string().max(100).optional().openapi({ description: "Where the previous page stopped: follow `next`." }),
});

export const SearchHitSchema = z
  .object({
    message: MessageSchema,
    snippet: z.string().openapi({ description: "Where the body matched: HTML-escaped text with each match in `<mark>…</mark>`, safe to insert as HTML." }),
  })
  .openapi("SearchHit");

export const SearchResultsSchema = z
  .object({ next: z.string().nullable().openapi({ description: "The next page's URL, or null after the last." }), results: z.array(SearchHitSchema) })
  .openapi("SearchResults");
