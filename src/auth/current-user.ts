import type { Context } from "hono";
import type { UserRow } from "../db/schema";
import type { AppEnv } from "../env";
import type { Viewer } from "../users/directory";
import { isAdmin } from "./scopes";

/** The row of the user the request's access token acts for, as read with the token. */
export function currentUser(c: Context<AppEnv>): UserRow {
  return c.get("auth").user;
}

/** Who is looking, for the user directory: the token's user, and whether the token acts as an administrator. */
export function currentViewer(c: Context<AppEnv>): Viewer {
  const auth = c.get("auth");
  return { id: auth.userId, admin: isAdmin(auth) };
}
