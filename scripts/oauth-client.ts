// npm run oauth:client -- --name N --redirect-uri URI [--redirect-uri URI2] [--confidential] [--scope S ...] [--introspect]
// Without --scope the client may ask for every scope but admin; `--scope admin` (with the others it needs)
// makes a staff tool: only staff users can grant it. --introspect lets a resource server look up any token.
import { parseArgs } from "node:util";
import { NewClientSchema } from "../src/auth/oauth/client-schemas";
import { createClient } from "../src/auth/oauth/clients";
import { fail, withLocalDb } from "./local-db";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
    confidential: { type: "boolean", default: false },
    scope: { type: "string", multiple: true },
    introspect: { type: "boolean", default: false },
  },
});

const parsed = NewClientSchema.safeParse({
  name: values.name,
  redirect_uris: values["redirect-uri"],
  confidential: values.confidential,
  scopes: values.scope?.flatMap((s) => s.split(" ")),
  introspect: values.introspect,
});
if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; "));

const { client, secret } = await withLocalDb((db) =>
  createClient(db, { name: parsed.data.name, redirectUris: parsed.data.redirect_uris, confidential: parsed.data.confidential, scopes: parsed.data.scopes, introspect: parsed.data.introspect }),
);
console.log(`Registered ${client.confidential ? "confidential" : "public"} client "${client.name}" in the local D1 database.`);
console.log(`client_id=${client.id}`);
if (secret) console.log(`client_secret=${secret}   (shown once; only its hash is stored)`);
console.log(`scopes: ${client.scopes}\nredirect URIs: ${client.redirectUris.join(" ")}`);
