// npm run token -- --email E --password P [--scope "read:messages send:messages"] [--url http://127.0.0.1:8787]
//                  [--client-id ID [--redirect-uri URI] [--client-secret S]] [--json | --export]
// Signs in through the real authorization-code + PKCE flow of a running server, without a browser, and
// prints the access and refresh tokens: for curl, scripts (--json) and the shell
// (eval "$(npm run -s token -- … --export)" sets HEY_TOKEN and HEY_REFRESH).
import { parseArgs } from "node:util";
import { SignInError, signIn, type Tokens } from "./http-client";
import { redirectUris, WEB_CLIENT_ID } from "./seed-web-client";
import { USER_SCOPES } from "../src/auth/scopes";

const USAGE = `usage: npm run token -- --email E --password P [--scope "read:messages send:messages …"] [--url http://127.0.0.1:8787]
                      [--client-id ID [--redirect-uri URI] [--client-secret S]] [--json | --export]

Runs the authorization-code + PKCE flow against a running server (npm run dev) and prints the tokens.
  --url            the server (default http://127.0.0.1:8787)
  --scope          the scopes to ask for (default: every scope but admin, which only staff may add)
  --client-id      the OAuth client (default hey-web, the web app's, with the redirect URI <url>/app/callback)
  --redirect-uri   the client's registered redirect URI (may be left out when it has only one)
  --client-secret  a confidential client's secret
  --json           one JSON object: the token response, expires_at and client_id
  --export         export HEY_TOKEN=… and HEY_REFRESH=… lines, for eval "$(npm run -s token -- … --export)"`;

function usage(problem?: string): never {
  if (!problem) {
    console.log(USAGE);
    process.exit(0);
  }
  console.error(`error: ${problem} (npm run token -- --help lists the options)`);
  process.exit(2);
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const OPTIONS = {
  email: { type: "string" },
  password: { type: "string" },
  scope: { type: "string" },
  url: { type: "string", default: "http://127.0.0.1:8787" },
  "client-id": { type: "string" },
  "redirect-uri": { type: "string" },
  "client-secret": { type: "string" },
  json: { type: "boolean", default: false },
  export: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parse() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
}

const values = parse();
if (values.help) usage();
if (!values.email || values.password === undefined) usage("--email and --password are required");
if (values.json && values.export) usage("choose one of --json and --export");

let server: URL;
try {
  server = new URL(values.url);
  if (server.protocol !== "http:" && server.protocol !== "https:") throw new Error();
} catch {
  usage(`--url must be the server's http(s) address, such as http://127.0.0.1:8787, not ${values.url}`);
}
const origin = server.origin;

const firstParty = values["client-id"] === undefined || values["client-id"] === WEB_CLIENT_ID;
const clientId = values["client-id"] ?? WEB_CLIENT_ID;
let redirectUri = values["redirect-uri"];
if (redirectUri === undefined && firstParty) {
  // hey-web is registered for APP_ORIGIN/app/callback, and a loopback URI registered with a port matches
  // only that port: the one that works is the server's own origin.
  try {
    redirectUri = redirectUris(origin).find((uri) => new URL(uri).host === server.host);
  } catch (error) {
    fail(error instanceof Error ? error.message.replace("APP_ORIGIN", "--url") : String(error));
  }
}

/** A refusal, said in one sentence, with what to do where the default client is the cause. */
function explain(error: SignInError): string {
  if (firstParty && values["redirect-uri"] === undefined && error.step === "authorize" && /not registered/i.test(error.message)) {
    if (/application asking you to sign in/i.test(error.message)) {
      return `The web app's client "${WEB_CLIENT_ID}" is not registered on ${origin}: run \`npm run web:client\` (npm run dev does it on every start), or pass --client-id and --redirect-uri.`;
    }
    return `"${WEB_CLIENT_ID}" on ${origin} does not accept the redirect URI ${redirectUri}: register it with \`npm run web:client -- --origin ${origin}\`, or pass --redirect-uri.`;
  }
  if (error.step === "token" && error.status === 401) {
    return values["client-secret"] === undefined
      ? `The token endpoint did not accept the client ${clientId} without a secret: pass a confidential client's --client-secret.`
      : `The token endpoint did not accept the client ${clientId} with that --client-secret.`;
  }
  return error.message;
}

let tokens: Tokens;
try {
  tokens = await signIn(origin, {
    clientId,
    redirectUri,
    email: values.email,
    password: values.password,
    // Everything but admin unless asked: hey-web may ask for admin (for staff), a plain token never needs it.
    scope: values.scope ?? USER_SCOPES.join(" "),
    clientSecret: values["client-secret"],
  });
} catch (error) {
  if (error instanceof SignInError) fail(explain(error));
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof TypeError && cause?.code === "ECONNREFUSED") {
    fail(`Nothing answers at ${origin}: start the server with \`npm run dev\` (or pass --url with the address of a running one).`);
  }
  if (error instanceof TypeError) fail(`Could not reach ${origin}: ${cause?.message ?? error.message}.`);
  throw error;
}

const expiresAt = new Date(Date.now() + tokens.expires_in * 1000);
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
if (values.json) {
  console.log(JSON.stringify({ ...tokens, expires_at: expiresAt.toISOString(), client_id: clientId }, null, 2));
} else if (values.export) {
  console.log(`export HEY_TOKEN=${quote(tokens.access_token)}`);
  console.log(`export HEY_REFRESH=${quote(tokens.refresh_token)}`);
} else {
  console.log(`Signed in as ${values.email} with the client ${clientId} at ${origin}.`);
  console.log(`Access token:  ${tokens.access_token}`);
  console.log(`Refresh token: ${tokens.refresh_token}`);
  console.log(`Scope:         ${tokens.scope}`);
  console.log(`Expires in:    ${tokens.expires_in} s (${expiresAt.toISOString()})`);
}
