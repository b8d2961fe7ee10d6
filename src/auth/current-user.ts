import type { Context } from "hono";
import { database } from "../db/client";
import type { UserRow } from "../db/schema";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import type { Viewer } from "../users/directory";
import { getUserById } from "../users/users";
import { isAdmin } from "./scopes";

/** The row of the user the request's access token acts for. */
export async function currentUser(c: Context<AppEnv>): Promise<UserRow> {
  const user = await getUserById(database(c.env.DB), c.get("auth").userId);
  if (!user) throw new DomainError(404, "No such user.");
  return user;
}

/** Who is looking, for the user directory: the token's user, and whether the token acts as an administrator. */
export function currentViewer(c: Context<AppEnv>): Viewer {
  const auth = c.get("auth");
  return { id: auth.userId, admin: isAdmin(auth) };
}
