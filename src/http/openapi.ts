import { z } from "@hono/zod-openapi";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details." });

const REASONS: Record<number, string> = {
  400: "Invalid input; `errors` names each failing field.",
  401: "Missing, invalid or expired access token.",
  403: "The token lacks the scope this route needs, or the caller may not do this.",
  404: "Not found, or not visible to the caller.",
  409: "Conflicts with existing data.",
  413: "The body is too large.",
  415: "The body is not JSON.",
  429: "Too many requests; retry after `Retry-After` seconds.",
  503: "Not available on this server now; the detail says why.",
};

/** OpenAPI response entries for the given error statuses, all problem+json. */
export function problems(...statuses: (keyof typeof REASONS)[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: REASONS[status]!, content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );
}

/** A JSON request body entry for createRoute. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } } as const;
}

/** A JSON response entry for createRoute. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}
