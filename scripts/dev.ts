// npm run dev [-- --port 8787] [-- --ip 127.0.0.1] [-- --persist-to DIR]
// Builds the docs' vendor files and the web app, applies the local D1 migrations, registers the first-party
// OAuth clients for this server's origin and starts `wrangler dev`, without a prompt on the way.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { ensureLocalVapidKeys } from "./vapid";

const USAGE = `usage: npm run dev [-- --port 8787] [-- --ip 127.0.0.1] [-- --persist-to DIR]
  --port        where to listen (default 8787); the web app's OAuth redirect follows it
  --ip          the address to listen on (default 127.0.0.1)
  --persist-to  keep the local D1 and Durable Objects in DIR instead of .wrangler/state`;

const QUIET = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false" };
const WRANGLER = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

function fail(message: string, code = 1): never {
  console.error(`error: ${message}`);
  process.exit(code);
}

function options() {
  try {
    const { values } = parseArgs({
      options: { port: { type: "string", default: "8787" }, ip: { type: "string", default: "127.0.0.1" }, "persist-to": { type: "string" }, help: { type: "boolean", short: "h" } },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a number from 1 to 65535, not ${values.port}`, 2);
    return { port, ip: values.ip, persistTo: values["persist-to"] };
  } catch (error) {
    // parseArgs names the unknown or repeated option.
    fail(`${(error as Error).message}\n${USAGE}`, 2);
  }
}

/** Whether something already listens on ip:port (checked before wrangler, whose own answer is a workerd stack trace). */
function taken(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    probe.listen(port, ip, () => probe.close(() => resolve(false)));
  });
}

/** Runs a step to completion; its output is shown only if it fails, unless `show` is set. */
function step(label: string, command: string, args: string[], show = false): string {
  const run = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", show ? "inherit" : "pipe", show ? "inherit" : "pipe"], env: { ...process.env, ...QUIET } });
  if (run.status !== 0) fail(`${label} failed${show ? "" : `:\n${run.stdout ?? ""}${run.stderr ?? ""}`}`);
  return run.stdout ?? "";
}

const { port, ip, persistTo } = options();
const persist = persistTo ? ["--persist-to", persistTo] : [];
// The address a browser uses: a wildcard listener is reached on loopback.
const host = ip === "0.0.0.0" || ip === "::" ? "127.0.0.1" : ip.includes(":") ? `[${ip}]` : ip;
const origin = process.env.APP_ORIGIN ?? `http://${host}:${port}`;

if (await taken(ip, port)) fail(`port ${port} on ${ip} is taken (another npm run dev?); stop it or choose another: npm run dev -- --port ${port + 1}`);

step("npm run build:assets", "npm", ["run", "--silent", "build:assets"]);
step("npm run build:app", "npm", ["run", "--silent", "build:app"], true);
// Every database wrangler.toml binds: the main one and each message shard.
step("applying the local D1 migrations", "npx", ["tsx", "scripts/migrate.ts", ...persist], true);
// Web Push works locally with nothing to configure: a key pair of its own, kept out of git.
if (await ensureLocalVapidKeys(".dev.vars")) console.log("wrote a Web Push (VAPID) key pair to .dev.vars");
step("npm run web:client", "npm", ["run", "--silent", "web:client", "--", "--origin", origin, ...persist], true);

// No npx in between: a wrapper that dies on a signal would leave workerd holding the port.
// APP_ORIGIN follows the port, as the seeded redirect URIs do (wrangler.toml's is for the default port).
const wrangler = spawn(process.execPath, [WRANGLER, "dev", "--ip", ip, "--port", String(port), "--var", `APP_ORIGIN:${origin}`, ...persist], {
  stdio: "inherit",
  env: { ...process.env, ...QUIET },
});
// Ctrl-C reaches wrangler too (same process group); wait for it to stop workerd, then leave with its code.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
