// npm run web:client [-- --remote] [-- --origin https://hey.example.com] [-- --persist-to DIR]
// Registers Hey's first-party public OAuth clients for the origin, or brings their redirect URIs in step
// with it: "hey-web", the web client (/app/), and "hey-docs", the API reference's Authorize (/docs).
// Run by `npm run dev` on every start, so it must be idempotent.
// The origin comes from --origin, else the APP_ORIGIN environment variable, else wrangler.toml [vars].
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ALL_SCOPES } from "../src/auth/scopes";
import { DOCS_CLIENT_ID, DOCS_REDIRECT_PATH, DOCS_SCOPES } from "../src/docs/client";

export const WEB_CLIENT_ID = "hey-web";
const DEFAULT_ORIGIN = "http://127.0.0.1:8787";
const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

export type FirstPartyClient = { id: string; name: string; redirectPath: string; scopes: readonly string[] };

/**
 * Every first-party client: public (PKCE, no secret), registered by staff (dynamic = 0). The web app may ask
 * for `admin`, which only staff are ever granted, and asks only when a staff user opens its moderation page
 * (the consent page is shown whenever `admin` is asked); its everyday sign-in never does.
 */
export const FIRST_PARTY_CLIENTS: readonly FirstPartyClient[] = [
  { id: WEB_CLIENT_ID, name: "Hey web", redirectPath: "/app/callback", scopes: ALL_SCOPES },
  { id: DOCS_CLIENT_ID, name: "Hey API docs", redirectPath: DOCS_REDIRECT_PATH, scopes: DOCS_SCOPES },
];

/** APP_ORIGIN from the environment or wrangler.toml [vars]. */
export function appOrigin(): string {
  if (process.env.APP_ORIGIN) return process.env.APP_ORIGIN;
  const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  return /^\s*APP_ORIGIN\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? DEFAULT_ORIGIN;
}

/**
 * `${origin}${path}` (the web app's callback by default); on a loopback origin also the other loopback
 * spelling, so the client works at both 127.0.0.1 and localhost (a loopback redirect URI registered with
 * a port matches only that port, src/auth/oauth/clients.ts).
 */
export function redirectUris(origin: string, path = "/app/callback"): string[] {
  const url = new URL(origin);
  if (url.pathname !== "/" || url.search || url.hash) throw new Error(`APP_ORIGIN must be an origin such as https://hey.example.com, not ${origin}`);
  const loopback = url.protocol === "http:" && ["127.0.0.1", "localhost"].includes(url.hostname);
  if (url.protocol !== "https:" && !loopback) throw new Error(`APP_ORIGIN must be https (or http on 127.0.0.1 or localhost): ${origin}`);
  const hosts = loopback ? ["127.0.0.1", "localhost"] : [url.hostname];
  return hosts.map((host) => `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}${path}`);
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * One idempotent upsert per first-party client (columns as in migrations/0001 and src/db/schema.ts):
 * a re-run on a new origin replaces the redirect URIs, and makes a client public again if it was not.
 */
export function firstPartyClientsSql(origin: string, now = Date.now()): string[] {
  return FIRST_PARTY_CLIENTS.map(
    (client) =>
      "INSERT INTO oauth_clients (id, name, redirect_uris, confidential, secret_hash, scopes, dynamic, created_at) " +
      `VALUES (${quote(client.id)}, ${quote(client.name)}, ${quote(JSON.stringify(redirectUris(origin, client.redirectPath)))}, 0, NULL, ` +
      `${quote(client.scopes.join(" "))}, 0, ${now}) ` +
      "ON CONFLICT(id) DO UPDATE SET redirect_uris = excluded.redirect_uris, scopes = excluded.scopes, confidential = 0, secret_hash = NULL",
  );
}

/**
 * Runs the upserts against the local D1 (optionally at persistTo) or, with remote, the deployed one;
 * returns each client's redirect URIs.
 */
export function seedWebClient(options: { origin?: string; remote?: boolean; persistTo?: string } = {}): Record<string, string[]> {
  const origin = options.origin ?? appOrigin();
  const args = ["wrangler", "d1", "execute", "DB", options.remote ? "--remote" : "--local", "--command", firstPartyClientsSql(origin).join("; ")];
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  // Not imported at the top: test/docs-root.test.ts runs firstPartyClientsSql in workerd, which crashes
  // importing node:child_process.
  const { spawnSync } = process.getBuiltinModule("node:child_process");
  const run = spawnSync("npx", args, { encoding: "utf8", env: { ...process.env, ...QUIET } });
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed:\n${run.stderr || run.stdout}`);
  return Object.fromEntries(FIRST_PARTY_CLIENTS.map((client) => [client.id, redirectUris(origin, client.redirectPath)]));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { remote: { type: "boolean", default: false }, origin: { type: "string" }, "persist-to": { type: "string" } } });
  try {
    const clients = seedWebClient({ origin: values.origin, remote: values.remote, persistTo: values["persist-to"] });
    for (const [id, uris] of Object.entries(clients)) {
      console.log(`Client "${id}" registered in the ${values.remote ? "remote" : "local"} D1; redirect URIs: ${uris.join(" ")}`);
    }
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
