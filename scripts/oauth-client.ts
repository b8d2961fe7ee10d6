// npm run oauth:client -- --name N --redirect-uri URI [--redirect-uri URI2] [--confidential] [--scope S ...]
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
  },
});

const parsed = NewClientSchema.safeParse({
  name: values.name,
  redirect_uris: values["redirect-uri"],
  confidential: values.confidential,
  scopes: values.scope?.flatMap((s) => s.split(" ")),
});
if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; "));

const { client, secret } = await withLocalDb((db) =>
  createClient(db, { name: parsed.data.name, redirectUris: parsed.data.redirect_uris, confidential: parsed.data.confidential, scopes: parsed.data.scopes }),
);
console.log(`Registered ${client.confidential ? "confidential" : "public"} client "${client.name}" in the local D1 database.`);
console.log(`client_id=${client.id}`);
if (secret) console.log(`client_secret=${secret}   (shown once; only its hash is stored)`);
console.log(`scopes: ${client.scopes}\nredirect URIs: ${client.redirectUris.join(" ")}`);
