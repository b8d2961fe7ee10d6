// Validation messages as sentences that name the field ("`message_body` is required.") for every zod schema
// in the Worker, in place of zod's ("Invalid input: expected number, received NaN"): they reach people through
// problem+json, the web app and the terminal client. A message written into a schema still wins.
import { z } from "zod";

type Issue = z.core.$ZodRawIssue;
type Schema = z.core.$ZodType | z.core.$ZodCheck | undefined;

/** How a field is named in a sentence: `email`, `a.b`, "item 3 of `participants`", or "the value" itself. */
export function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the value";
  const last = path.at(-1);
  if (typeof last === "number" && path.length > 1) return `item ${last + 1} of ${fieldName(path.slice(0, -1))}`;
  return `\`${path.map(String).join(".")}\``;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** `z.int()` or `z.number().int()` (zod's classic schemas say so in `isInt`). */
function isWholeNumber(schema: Schema): boolean {
  const number = schema as { isInt?: boolean | null; _zod?: { def?: { format?: string } } } | undefined;
  return number?.isInt === true || /int/.test(number?._zod?.def?.format ?? "");
}

/** "whole numbers", "strings", … : what a list holds, for "must be a list of …". */
function itemsOf(schema: Schema): string {
  const element = (schema as { _zod?: { def?: { element?: z.core.$ZodType } } } | undefined)?._zod?.def?.element;
  const type = element?._zod.def.type;
  if (type === "number") return isWholeNumber(element) ? " of whole numbers" : " of numbers";
  if (type === "string") return " of strings";
  if (type === "object") return " of objects";
  return "";
}

function expected(issue: Extract<Issue, { code: "invalid_type" }>): string {
  switch (issue.expected) {
    case "int":
      return "a whole number";
    case "number":
      return isWholeNumber(issue.schema ?? issue.inst) ? "a whole number" : "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "array":
      return `a list${itemsOf(issue.schema ?? issue.inst)}`;
    case "object":
      return "an object";
    default:
      return `of type ${issue.expected}`;
  }
}

const FORMATS: Record<string, string> = {
  email: "an email address",
  url: "a URL",
  uuid: "a UUID",
  datetime: "a date and time such as 2026-04-26T09:30:00Z",
  date: "a date such as 2026-04-26",
  time: "a time such as 09:30:00",
};

function tooBig(issue: Extract<Issue, { code: "too_big" }>): string {
  const max = Number(issue.maximum);
  switch (issue.origin) {
    case "string":
      return `must be at most ${max} characters long`;
    case "array":
    case "set":
      return `must have at most ${max} ${max === 1 ? "item" : "items"}`;
    default:
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
  }
}

function tooSmall(issue: Extract<Issue, { code: "too_small" }>): string {
  const min = Number(issue.minimum);
  switch (issue.origin) {
    case "string":
      return min <= 1 ? "must not be empty" : `must be at least ${min} characters long`;
    case "array":
    case "set":
      return min <= 1 ? "must not be empty" : `must have at least ${min} items`;
    default:
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
  }
}

const listed = (values: readonly unknown[]) => values.map((v) => `\`${String(v)}\``).join(", ");

/** "`a` is not a known field." or "`a`, `b` are not known fields." (of the object at `path`). */
export function unknownFields(keys: readonly string[], path: readonly PropertyKey[] = []): string {
  const names = listed(keys);
  const where = path.length ? ` in ${fieldName(path)}` : "";
  return keys.length === 1 ? `${names} is not a known field${where}.` : `${names} are not known fields${where}.`;
}

/** The sentence for a zod issue whose schema has no message of its own. */
export const humanMessage: z.core.$ZodErrorMap = (issue) => {
  const path = issue.path ?? [];
  const field = fieldName(path);
  if (issue.code === "unrecognized_keys") return unknownFields(issue.keys, path);
  // The input as a whole: a JSON body that is an array, a string or null.
  if (path.length === 0 && issue.code === "invalid_type" && issue.expected === "object") return "The body must be a JSON object.";
  if (issue.input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) return `${capitalized(field)} is required.`;
  if (issue.input === null && issue.code === "invalid_type") return `${capitalized(field)} must not be null.`;
  switch (issue.code) {
    case "invalid_type":
      return `${capitalized(field)} must be ${expected(issue)}.`;
    case "too_big":
      return `${capitalized(field)} ${tooBig(issue)}.`;
    case "too_small":
      return `${capitalized(field)} ${tooSmall(issue)}.`;
    case "invalid_format": {
      const format = FORMATS[issue.format];
      return format ? `${capitalized(field)} must be ${format}.` : `${capitalized(field)} is not in the expected format.`;
    }
    case "invalid_value":
      return issue.values.length === 1
        ? `${capitalized(field)} must be ${listed(issue.values)}.`
        : `${capitalized(field)} must be one of ${listed(issue.values)}.`;
    case "not_multiple_of":
      return `${capitalized(field)} must be a multiple of ${String(issue.divisor)}.`;
    case "invalid_union": {
      // An option of the right type whose check failed ("abc" for a number or a digit string) says best what is wrong.
      const options = (issue.errors ?? []) as z.core.$ZodIssue[][];
      const closest = options.find((o) => o.length > 0 && o.every((i) => i.code !== "invalid_type" && i.path.length === 0));
      if (closest) return closest[0]!.message;
      // Otherwise a value of none of the types: "must be a number or a string".
      const types = options.map((o) => o[0]).filter((i) => i?.code === "invalid_type" && i.path.length === 0) as Extract<Issue, { code: "invalid_type" }>[];
      if (types.length > 0 && types.length === options.length) return `${capitalized(field)} must be ${types.map(expected).join(" or ")}.`;
      if (issue.note === "No matching discriminator") return `${capitalized(field)} is not one of the accepted values.`;
      return `${capitalized(field)} does not match any of the accepted shapes.`;
    }
    case "invalid_key":
    case "invalid_element":
      return `${capitalized(field)} has an invalid ${issue.code === "invalid_key" ? "key" : "entry"}.`;
    default:
      return `${capitalized(field)} is not valid.`;
  }
};

/**
 * The sentence for a path parameter that is not a positive whole number, naming what it identifies:
 * "The conversation id must be a positive whole number." for the `id` of /api/conversations/:id/,
 * "The message id …" for `message_id`.
 */
export function pathIdMessage(routePath: string, key: string): string {
  let noun = key.replace(/_?id$/, "");
  if (!noun) {
    const segments = routePath.split("/").filter(Boolean);
    const before = segments[segments.indexOf(`:${key}`) - 1] ?? "";
    noun = before.replace(/s$/, "");
  }
  return noun ? `The ${noun.replace(/_/g, " ")} id must be a positive whole number.` : `${capitalized(fieldName([key]))} must be a positive whole number.`;
}

// Once per isolate, for every schema: the Worker's entry, the Durable Objects and the tests import this module
// through src/http/validation.ts.
z.config({ customError: humanMessage });
