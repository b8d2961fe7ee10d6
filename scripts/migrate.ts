// npm run db:migrate:local [-- --persist-to DIR] · npm run db:migrate:remote
// Applies the migrations of every D1 database wrangler.toml binds: the main one (migrations/) and each
// message shard (migrations-messages/), one after another, without a prompt.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { d1Bindings } from "./d1-bindings";

const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };

const { values } = parseArgs({ options: { remote: { type: "boolean" }, "persist-to": { type: "string" } } });
const where = values.remote ? ["--remote"] : ["--local", ...(values["persist-to"] ? ["--persist-to", values["persist-to"]] : [])];
for (const binding of d1Bindings()) {
  // Standard input is not a terminal, so wrangler applies the migrations instead of asking to confirm.
  const run = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", binding, ...where], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...QUIET } });
  const applied = [...new Set((run.stdout ?? "").match(/\d{4}_[\w-]+\.sql/g) ?? [])];
  if (run.status !== 0) {
    console.error(`error: migrating ${binding} failed:\n${run.stdout}${run.stderr}`);
    process.exit(1);
  }
  console.log(`${binding}: ${applied.length ? `applied ${applied.join(", ")}` : "up to date"}`);
}
