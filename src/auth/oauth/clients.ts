import { and, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../../db/client";
import { oauthClients, oauthGrants, type ClientRow } from "../../db/schema";
import type { RevokedGrant } from "./grants";
import type { Scope } from "../scopes";
import { hashSecret, randomToken, safeEqual } from "../secrets";
import { oauthError } from "./errors";
import { batch } from "../../db/compiled";

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d{1,5})?([/?#].*)?$/;

/**
 * Why a redirect URI may not be registered, or null when it may: https, http on a loopback host
 * (RFC 8252 §7.3), or a private-use scheme in reverse-domain form for native apps (RFC 8252 §7.1).
 */
export function redirectUriProblem(uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "is not an absolute URI";
  }
  if (uri.includes("#")) return "must not contain a fragment (RFC 6749 §3.1.2)";
  if (url.protocol === "https:") return url.hostname ? null : "needs a host";
  if (url.protocol === "http:") return LOOPBACK.test(uri) ? null : "may use http only on a loopback host";
  // Private-use schemes must be reverse domain names, which also rules out javascript:, data: and file:.
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol) ? null : "must be https, loopback http, or a private-use scheme such as com.example.app:";
}

/**
 * Exact string match, except that a loopback URI registered without a port matches any port (RFC 8252
 * §7.3: a native app listens on whatever port the OS gives it). A URI registered with a port, like the
 * web app's under `wrangler dev`, matches only that port, so another local program cannot take its codes.
 */
export function redirectUriMatches(registered: readonly string[], candidate: string): boolean {
  const c = LOOPBACK.exec(candidate);
  return registered.some((uri) => {
    if (uri === candidate) return true;
    const r = LOOPBACK.exec(uri);
    return !!r && !!c && r[2] === undefined && r[1] === c[1] && (r[3] ?? "") === (c[3] ?? "");
  });
}

export type NewClient = { name: string; redirectUris: string[]; confidential: boolean; scopes: Scope[]; dynamic?: boolean; introspect?: boolean };

/** Registers a client; the secret of a confidential one is returned here and never again. */
export async function createClient(db: Database, input: NewClient): Promise<{ client: ClientRow; secret: string | null }> {
  const secret = input.confidential ? randomToken() : null;
  const [client] = await db
    .insert(oauthClients)
    .values({
      id: randomToken(),
      name: input.name,
      redirectUris: input.redirectUris,
      confidential: input.confidential,
      secretHash: secret ? hashSecret(secret) : null,
      scopes: input.scopes.join(" "),
      dynamic: input.dynamic ?? false,
      introspect: input.introspect ?? false,
      createdAt: new Date(),
    })
    .returning();
  return { client: client!, secret };
}

export function getClient(db: Database, id: string): Promise<ClientRow | undefined> {
  return db.select().from(oauthClients).where(eq(oauthClients.id, id)).get();
}

/** A name as people read it: case, spacing, punctuation and look-alike forms (NFKC) ignored. */
const readAs = (name: string) => name.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");

/** The name of a staff-registered client that `name` reads as, if any (self-registered apps may not borrow one). */
export async function nameOfFirstPartyClient(db: Database, name: string): Promise<string | null> {
  const wanted = readAs(name);
  const rows = await db.select({ name: oauthClients.name }).from(oauthClients).where(eq(oauthClients.dynamic, false));
  return rows.find((r) => readAs(r.name) === wanted)?.name ?? null;
}

export function listClients(db: Database): Promise<ClientRow[]> {
  return db.select().from(oauthClients).orderBy(desc(oauthClients.createdAt));
}

/**
 * Deletes a client and, through the foreign keys, every grant, code and token issued to it, in one
 * batch; returns the grants it had (so their sockets can be closed), or null when there was no client.
 */
export async function deleteClient(db: Database, id: string): Promise<RevokedGrant[] | null> {
  const [grants, deleted] = await batch(db, [
    db.select({ grantId: oauthGrants.id, userId: oauthGrants.userId }).from(oauthGrants).where(and(eq(oauthGrants.clientId, id), isNull(oauthGrants.revokedAt))),
    db.delete(oauthClients).where(eq(oauthClients.id, id)).returning({ id: oauthClients.id }),
  ]);
  return deleted.length > 0 ? grants : null;
}

export type ClientAuthResult = { client: ClientRow; response?: never } | { client?: never; response: Response };

function basicCredentials(header: string | undefined): [string, string] | null | "malformed" {
  if (!header?.toLowerCase().startsWith("basic ")) return null;
  try {
    const [id, secret, ...rest] = atob(header.slice(6).trim()).split(":");
    if (id === undefined || secret === undefined || rest.length > 0) return "malformed";
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return [decodeURIComponent(id.replace(/\+/g, " ")), decodeURIComponent(secret.replace(/\+/g, " "))];
  } catch {
    return "malformed";
  }
}

/**
 * Authenticates the client of a token, revocation or introspection request: client_secret_basic,
 * client_secret_post, or (public clients) client_id alone. Uses exactly one method (RFC 6749 §2.3).
 */
export async function authenticateClient(
  db: Database,
  authorization: string | undefined,
  form: { client_id?: string; client_secret?: string },
): Promise<ClientAuthResult> {
  const basic = basicCredentials(authorization);
  const fail = (viaBasic: boolean) => ({
    response: oauthError("invalid_client", "Client authentication failed.", 401, viaBasic ? { "WWW-Authenticate": 'Basic realm="hey"' } : {}),
  });
  if (basic === "malformed") return fail(true);
  if (basic && form.client_secret !== undefined) {
    return { response: oauthError("invalid_request", "Use one client authentication method, not two.") };
  }
  if (basic && form.client_id !== undefined && form.client_id !== basic[0]) {
    return { response: oauthError("invalid_request", "client_id does not match the authenticated client.") };
  }
  const [id, secret] = basic ?? [form.client_id, form.client_secret];
  if (!id) return { response: oauthError("invalid_request", "client_id is required.") };
  const client = await getClient(db, id);
  if (secret !== undefined) {
    const ok = !!client?.secretHash && safeEqual(hashSecret(secret), client.secretHash);
    return ok ? { client: client! } : fail(basic !== null);
  }
  if (!client || client.confidential) return fail(false);
  return { client };
}
