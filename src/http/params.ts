import { z } from "@hono/zod-openapi";

/** The `{id}` path parameter: a positive integer, coerced from the path's string. */
export const IdParam = z.object({ id: z.coerce.number().int().positive().openapi({ param: { name: "id", in: "path" } }) });
