import type { Context } from "hono";
import { database } from "../db/client";
import type { UserRow } from "../db/schema";
import type { AppEnv } from "../env";
import { DomainError } from "../errors";
import { getUserById } from "../users/users";

/** The row of the user the request's access token acts for. */
export async function currentUser(c: Context<AppEnv>): Promise<UserRow> {
  const user = await getUserById(database(c.env.DB), c.get("auth").userId);
  if (!user) throw new DomainError(404, "No such user.");
  return user;
}
