// npm run web:client [-- --remote] [-- --origin https://hey.example.com] [-- --persist-to DIR]
// Registers the web client (/app/) as the first-party public OAuth client "hey-web", or brings its
// redirect URIs in step with the origin: run by `npm run dev` on every start, so it must be idempotent.
// The origin comes from --origin, else the APP_ORIGIN environment variable, else wrangler.toml [vars].
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

export const WEB_CLIENT_ID = "hey-web";
const SCOPES = "read:messages send:messages manage:conversations profile";
const DEFAULT_ORIGIN = "http://127.0.0.1:8787";
const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

/** APP_ORIGIN from the environment or wrangler.toml [vars]. */
export function appOrigin(): string {
  if (process.env.APP_ORIGIN) return process.env.APP_ORIGIN;
  const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  return /^\s*APP_ORIGIN\s*=\s*"([^"]+)"/m.exec(toml)?.[1] ?? DEFAULT_ORIGIN;
}

/**
 * `${origin}/app/callback`; on a loopback origin also the other loopback spelling, so the app works
 * at both 127.0.0.1 and localhost (Hey accepts any port on a loopback redirect URI, RFC 8252 §7.3).
 */
export function redirectUris(origin: string): string[] {
  const url = new URL(origin);
  if (url.pathname !== "/" || url.search || url.hash) throw new Error(`APP_ORIGIN must be an origin such as https://hey.example.com, not ${origin}`);
  const loopback = url.protocol === "http:" && ["127.0.0.1", "localhost"].includes(url.hostname);
  if (url.protocol !== "https:" && !loopback) throw new Error(`APP_ORIGIN must be https (or http on 127.0.0.1 or localhost): ${origin}`);
  const hosts = loopback ? ["127.0.0.1", "localhost"] : [url.hostname];
  return hosts.map((host) => `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}/app/callback`);
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The idempotent upsert of the client row (columns as in migrations/0001 and src/db/schema.ts). */
export function webClientSql(origin: string, now = Date.now()): string {
  const uris = JSON.stringify(redirectUris(origin));
  return (
    "INSERT INTO oauth_clients (id, name, redirect_uris, confidential, secret_hash, scopes, dynamic, created_at) " +
    `VALUES (${quote(WEB_CLIENT_ID)}, 'Hey web', ${quote(uris)}, 0, NULL, ${quote(SCOPES)}, 0, ${now}) ` +
    "ON CONFLICT(id) DO UPDATE SET redirect_uris = excluded.redirect_uris, scopes = excluded.scopes, confidential = 0, secret_hash = NULL"
  );
}

/** Runs the upsert against the local D1 (optionally at persistTo) or, with remote, the deployed one. */
export function seedWebClient(options: { origin?: string; remote?: boolean; persistTo?: string } = {}): string[] {
  const origin = options.origin ?? appOrigin();
  const args = ["wrangler", "d1", "execute", "DB", options.remote ? "--remote" : "--local", "--command", webClientSql(origin)];
  if (options.persistTo) args.push("--persist-to", options.persistTo);
  const run = spawnSync("npx", args, { encoding: "utf8", env: { ...process.env, ...QUIET } });
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed:\n${run.stderr || run.stdout}`);
  return redirectUris(origin);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { remote: { type: "boolean", default: false }, origin: { type: "string" }, "persist-to": { type: "string" } } });
  try {
    const uris = seedWebClient({ origin: values.origin, remote: values.remote, persistTo: values["persist-to"] });
    console.log(`Web client "${WEB_CLIENT_ID}" registered in the ${values.remote ? "remote" : "local"} D1; redirect URIs: ${uris.join(" ")}`);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
