import { createMiddleware } from "hono/factory";
import { config, ConfigError } from "../config";
import { problemResponse } from "./problem";

/** Refuses every request while a var does not parse; the reason goes to the log, not to clients. */
export const configured = createMiddleware(async (c, next) => {
  try {
    config(c.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return problemResponse(500, "Hey is misconfigured and cannot answer; its operator can see why in the logs.");
  }
  await next();
});
