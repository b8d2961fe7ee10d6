import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { database } from "../db/client";
import type { AppEnv } from "../env";
import { jsonBody, jsonResponse, problems } from "../http/openapi";
import { validationHook } from "../http/validation";
import { SignupSchema, UserSchema } from "./schemas";
import { createUser, toUserResource } from "./users";

const signup = createRoute({
  method: "post",
  path: "/api/users/",
  tags: ["Users"],
  summary: "Sign up",
  description: "Open to anyone. The email is the login name and is compared case-insensitively.",
  request: { body: jsonBody(SignupSchema) },
  responses: {
    201: jsonResponse(UserSchema, "The new user."),
    ...problems(400, 409, 413, 415),
  },
});

export const userRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(signup, async (c) => {
  const user = await createUser(database(c.env.DB), c.req.valid("json"));
  return c.json(toUserResource(user), 201);
});
