import type { Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { z } from "zod";
import { pathIdMessage, unknownFields } from "./messages";
import { problemResponse, type FieldError } from "./problem";
import type { DeferredToken } from "./auth-context";

const SHOWN_IN_DETAIL = 3;

type Named = FieldError & { named: boolean };

/** Whether a number was wanted, or one was out of range: for an id in the path, "must be a positive whole number". */
const isNumberIssue = (issue: z.core.$ZodIssue) =>
  (issue.code === "invalid_type" && (issue.expected === "number" || issue.expected === "int")) ||
  ((issue.code === "too_small" || issue.code === "too_big") && issue.origin === "number");

/** Zod issues as `{path, message}` pairs; the path starts with where the input came from (`param.id`, `query.page`). */
function describe(error: z.ZodError, target: string | undefined, routePath: string | undefined): Named[] {
  const prefix = target && target !== "json" && target !== "form" ? [target] : [];
  return error.issues.flatMap((issue): Named[] => {
    const path = [...prefix, ...issue.path].join(".");
    // One entry per unknown key, so `path` points at the key to remove (unless the schema wrote its own message).
    if (issue.code === "unrecognized_keys" && issue.message === unknownFields(issue.keys, issue.path)) {
      return issue.keys.map((key) => ({ path: [...prefix, ...issue.path, key].join("."), message: unknownFields([key], issue.path), named: true }));
    }
    if (target === "param" && routePath && issue.path.length === 1 && isNumberIssue(issue)) {
      return [{ path, message: pathIdMessage(routePath, String(issue.path[0])), named: true }];
    }
    return [{ path, message: issue.message, named: issue.message.includes("`") }];
  });
}

/** The problem's `detail`: the first few messages, each naming its field, so a client can show just this. */
function detailOf(errors: Named[]): string {
  const sentences = errors.slice(0, SHOWN_IN_DETAIL).map((e) => (e.named || !e.path ? e.message : `\`${e.path}\`: ${e.message}`));
  const more = errors.length - SHOWN_IN_DETAIL;
  if (more > 0) sentences.push(`And ${more} more in \`errors\`.`);
  return sentences.join(" ") || "The request has invalid fields.";
}

/** Shared by every route: a failed validation becomes a 400 problem whose detail and `errors` say what to fix. */
export const validationHook: Hook<unknown, any, any, any> = async (result, c: Context) => {
  if (!result.success) {
    // A route that checks its token later checks it now: a bad token gets its 401 (or 403) before the 400, as on every route.
    await (c.get("token") as DeferredToken | undefined)?.verify();
    const errors = describe(result.error as z.ZodError, result.target, c.req.routePath);
    return problemResponse(400, detailOf(errors), { errors: errors.map(({ path, message }) => ({ path, message })) });
  }
};
