// npx tsx scripts/openapi.ts [FILE]: the OpenAPI document on stdout, or in FILE (npm run lint:openapi lints that).
// The app is built in Node and asked for /openapi.json: no server and no bindings, since the document needs none.
/// <reference types="node" />
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createApp } from "../src/app";

const res = await createApp().request("http://127.0.0.1:8787/openapi.json", {}, {} as Cloudflare.Env);
if (!res.ok) throw new Error(`/openapi.json answered ${res.status}: ${await res.text()}`);
const document = `${JSON.stringify(await res.json(), null, 2)}\n`;

const file = process.argv[2];
if (file) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, document);
} else {
  process.stdout.write(document);
}
