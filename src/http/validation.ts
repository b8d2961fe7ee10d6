import type { Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import { problemResponse, type FieldError } from "./problem";

/** Turns zod issues into `{path, message}` pairs; the path starts with where the input came from. */
export function fieldErrors(error: z.ZodError, target?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [...(target && target !== "json" && target !== "form" ? [target] : []), ...issue.path].join("."),
    message: issue.message,
  }));
}

/** Shared by every route: a failed validation becomes a 400 problem with the failing fields. */
export const validationHook: Hook<unknown, any, any, any> = (result, c) => {
  if (!result.success) {
    return problemResponse(400, "The request has invalid fields.", {
      errors: fieldErrors(result.error as z.ZodError, result.target),
    });
  }
};
