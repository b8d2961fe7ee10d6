import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { config, MAX_PAGE_SIZE } from "../config";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1).openapi({ description: "1-based page number." }),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().openapi({ description: `At most ${MAX_PAGE_SIZE}.` }),
});

/** A DRF-shaped page schema for `item`. */
export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({ count: z.int(), next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) })
    .openapi(name);
}

/** A page past the end is a 404, as DRF answers it. */
export function assertPageExists(page: number, pageSize: number, count: number): void {
  if (page > 1 && (page - 1) * pageSize >= count) throw new DomainError(404, "Invalid page.");
}

/** `{count, next, previous, results}` with absolute next/previous links, as DRF's PageNumberPagination. */
export function pageBody<T>(url: string, page: number, pageSize: number, count: number, results: T[]) {
  const link = (n: number) => {
    const u = new URL(url);
    u.searchParams.set("page", String(n));
    u.searchParams.set("page_size", String(pageSize));
    return u.toString();
  };
  return {
    count,
    next: page * pageSize < count ? link(page + 1) : null,
    previous: page > 1 ? link(page - 1) : null,
    results,
  };
}

type PageRequest = { page: number; page_size?: number | undefined };

const sizeOf = (c: Context<AppEnv>, query: PageRequest) => query.page_size ?? config(c.env).DEFAULT_PAGE_SIZE;

/** The rows a page query asks for, as `{offset, limit}`; the size is DEFAULT_PAGE_SIZE unless the query names one. */
export function pageWindow(c: Context<AppEnv>, query: PageRequest): { offset: number; limit: number } {
  const size = sizeOf(c, query);
  return { offset: (query.page - 1) * size, limit: size };
}

/** The DRF page of `results` (`count` in all) for the request's query; a page past the end is a 404. */
export function pageResult<T>(c: Context<AppEnv>, query: PageRequest, count: number, results: T[]) {
  const size = sizeOf(c, query);
  assertPageExists(query.page, size, count);
  return pageBody(c.req.url, query.page, size, count, results);
}
